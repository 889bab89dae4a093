/** The tables `model`, `items` (its catalogue) and `model_changes` (its change log) on PostgreSQL. */
import createDebug from 'debug'
import { featureColumns, uintsToBlob } from '../feature-columns.ts'
import type { ModelStore } from '../model.ts'
import { checkModelFinite, modelChecksum } from '../model-checksum.ts'
import { asRow, floatsToBlob, int, nullable, StoreCorruptError, text } from '../rows.ts'
import { toModelChanges, toStoredModel } from '../tensor-rows.ts'
import type { PgContext } from './context.ts'
import { insertRow } from './queries.ts'

const log = createDebug('fedrec:aggregator:store')

/**
 * The model group; `path` names the store in the log line of the one write a load can make (sealing a
 * model stored without a checksum).
 * @example const model = await postgresModel(ctx, store.path).loadModel()
 */
export function postgresModel({ query, atomic }: PgContext, path: string): ModelStore {
  return {
    async loadModel() {
      // One statement, so one snapshot: a model and catalogue another aggregator is replacing are read
      // either both before or both after.
      const { rows } = await query(
        `SELECT model.*, ARRAY(SELECT item_id FROM items ORDER BY row) AS item_ids,
           (SELECT min(row) FROM items) AS first_row, (SELECT max(row) FROM items) AS last_row
         FROM model`,
      )
      if (rows.length !== 1) throw new StoreCorruptError(`expected one model row, found ${rows.length}`)
      const row = asRow(rows[0], 'model')
      const itemIds = textArray(row.item_ids, 'items.item_id')
      // Rows are unique (the primary key), so 0 and n - 1 at the ends means none is missing.
      const first = nullable(row, 'first_row', 'items', int) ?? 0
      const last = nullable(row, 'last_row', 'items', int) ?? -1
      if (first !== 0 || last !== itemIds.length - 1)
        throw new StoreCorruptError(
          `items: rows run from ${first} to ${last}, not 0 to ${itemIds.length - 1}`,
        )
      const { model, seal } = toStoredModel(row, itemIds)
      if (seal !== null) {
        // Written without one (by hand, or by a tool that copied the tables): its values were just checked
        // finite, so seal what is there; from now on damage is caught.
        await query(`UPDATE model SET checksum = $1 WHERE version = $2`, [seal, model.version])
        log('%s: model version %d checksummed', path, model.version)
      }
      return model
    },

    async saveModel(model) {
      // Never publish what cannot be served: the transaction fails and the round stays open with its updates.
      checkModelFinite(model)
      return atomic(async (tx) => {
        const known = int(
          asRow((await tx.query(`SELECT count(*) AS n FROM items`)).rows[0], 'items'),
          'n',
          'items',
        )
        await tx.query(
          `INSERT INTO items (row, item_id)
           SELECT $1::bigint + n - 1, id FROM unnest($2::text[]) WITH ORDINALITY AS added (id, n)`,
          [known, model.itemIds.slice(known)],
        )
        await tx.query(`DELETE FROM model`)
        await insertRow(tx.query, 'model', {
          version: model.version,
          round: model.round,
          num_items: model.itemIds.length,
          dim: model.dim,
          item_embedding: floatsToBlob(model.itemEmbedding),
          item_bias: floatsToBlob(model.itemBias),
          created_at: model.createdAt,
          checksum: modelChecksum(model),
          ...featureColumns(model),
        })
      })
    },

    async insertModelChanges({ version, baseItems, rows, featureRows }) {
      await query(
        `INSERT INTO model_changes (version, base_items, rows, feature_rows) VALUES ($1, $2, $3, $4)`,
        // Sent as their bytes: uint32, this machine's order, little-endian on every platform Node runs the
        // aggregator on, as on SQLite.
        [version, baseItems, uintsToBlob(rows), featureRows ? uintsToBlob(featureRows) : null],
      )
    },

    async modelChanges(since) {
      const { rows } = await query(
        `SELECT version, base_items, rows, feature_rows FROM model_changes WHERE version > $1 ORDER BY version`,
        [since],
      )
      return rows.map(toModelChanges)
    },

    async pruneModelChanges(upTo) {
      return (await query(`DELETE FROM model_changes WHERE version <= $1`, [upTo])).rowCount
    },
  }
}

/** A TEXT[] column: an array of strings. */
function textArray(value: unknown, what: string): string[] {
  if (!Array.isArray(value)) throw new StoreCorruptError(`${what}: expected a list, got ${typeof value}`)
  return value.map((id: unknown, i) => text({ id }, 'id', `${what}[${i}]`))
}
