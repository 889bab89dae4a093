/** The tables `model`, `items` (its catalogue) and `model_changes` (its change log) on SQLite. */
import createDebug from 'debug'
import { FEATURE_COLUMNS, featureColumns, uintsToBlob } from '../feature-columns.ts'
import type { ModelStore } from '../model.ts'
import { checkModelFinite, modelChecksum } from '../model-checksum.ts'
import { asRow, floatsToBlob, int, StoreCorruptError, text } from '../rows.ts'
import { toModelChanges, toStoredModel } from '../tensor-rows.ts'
import type { SyncGroup } from './async-groups.ts'
import type { SqliteContext } from './statements.ts'

const log = createDebug('fedrec:aggregator:store')

/**
 * The model group; `path` names the store in the log line of the one write a load can make (sealing a
 * model stored before checksums).
 * @example const model = sqliteModel(ctx, store.path).loadModel()
 */
export function sqliteModel({ sql }: SqliteContext, path: string): SyncGroup<ModelStore> {
  return {
    loadModel() {
      const rows = sql(`SELECT * FROM model`).all()
      if (rows.length !== 1) throw new StoreCorruptError(`expected one model row, found ${rows.length}`)
      const itemIds = sql(`SELECT row, item_id FROM items ORDER BY row`)
        .all()
        .map((r, i) => {
          const item = asRow(r, 'items')
          if (int(item, 'row', 'items') !== i) throw new StoreCorruptError(`items: row ${i} is missing`)
          return text(item, 'item_id', 'items')
        })
      const { model, seal } = toStoredModel(rows[0], itemIds)
      if (seal !== null) {
        // A store written before checksums (schema version < 7): its values were just checked finite, so
        // seal what is there; from now on damage is caught.
        sql(`UPDATE model SET checksum = ? WHERE version = ?`).run(seal, model.version)
        log('%s: model version %d checksummed', path, model.version)
      }
      return model
    },

    saveModel(model) {
      // Never publish what cannot be served: the transaction fails and the round stays open with its updates.
      checkModelFinite(model)
      const known = int(asRow(sql(`SELECT count(*) AS n FROM items`).get(), 'items'), 'n', 'items')
      const insertItem = sql(`INSERT INTO items (row, item_id) VALUES (?, ?)`)
      for (let i = known; i < model.itemIds.length; i++) insertItem.run(i, model.itemIds[i])
      sql(`DELETE FROM model`).run()
      const features = featureColumns(model)
      sql(
        `INSERT INTO model (version, round, num_items, dim, item_embedding, item_bias, created_at, checksum,
           ${FEATURE_COLUMNS.join(', ')})
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ${FEATURE_COLUMNS.map(() => '?').join(', ')})`,
      ).run(
        model.version,
        model.round,
        model.itemIds.length,
        model.dim,
        floatsToBlob(model.itemEmbedding),
        floatsToBlob(model.itemBias),
        model.createdAt,
        modelChecksum(model),
        ...FEATURE_COLUMNS.map((c) => features[c]),
      )
    },

    insertModelChanges({ version, baseItems, rows, featureRows }) {
      sql(`INSERT INTO model_changes (version, base_items, rows, feature_rows) VALUES (?, ?, ?, ?)`).run(
        version,
        baseItems,
        uintsToBlob(rows),
        featureRows ? uintsToBlob(featureRows) : null,
      )
    },

    modelChanges(since) {
      return sql(
        `SELECT version, base_items, rows, feature_rows FROM model_changes WHERE version > ? ORDER BY version`,
      )
        .all(since)
        .map(toModelChanges)
    },

    pruneModelChanges(upTo) {
      return sql(`DELETE FROM model_changes WHERE version <= ?`).run(upTo).changes
    },
  }
}
