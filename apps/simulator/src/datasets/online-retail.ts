// The UCI Online Retail loader: real purchase baskets of a web shop, with its non-product lines filtered out.
import { parseCsvTable } from './csv.ts'
import type { LoadedDataset } from './interaction.ts'
import { malformed, parseInteger } from './line-error.ts'

const REQUIRED = ['InvoiceNo', 'StockCode', 'Quantity', 'InvoiceDate', 'CustomerID'] as const

/**
 * Product stock codes are five digits with an optional letter suffix; everything else (`POST`, `D`, `M`,
 * `BANK CHARGES`, `AMAZONFEE`, `DCGSS…`, `gift_0001_…`) is postage, fees or adjustments. Left in, `POST`
 * would be most shoppers' last line of an invoice and so their held-out "item".
 */
export const PRODUCT_CODE = /^\d{5}[A-Za-z]*$/

/**
 * The UCI Online Retail CSV (header `InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country`).
 * Each sale line is a purchase of StockCode by CustomerID at InvoiceDate (ISO local time, read as UTC —
 * only the order matters). Skipped and counted: lines without a customer id, with quantity ≤ 0
 * (cancellations, adjustments), and non-product codes.
 * @throws DatasetError naming `path` and the line of the first malformed line
 * @example parseOnlineRetail(text, 'online-retail.csv').skipped // { no_customer_id: 27275, … }
 */
export function parseOnlineRetail(text: string, path: string): LoadedDataset {
  const { rows, field } = parseCsvTable(text, path, REQUIRED)
  const skipped: Record<string, number> = {}
  const skip = (reason: string) => {
    skipped[reason] = (skipped[reason] ?? 0) + 1
  }
  const interactions: LoadedDataset['interactions'] = []
  for (const row of rows) {
    const { line } = row
    const at = (name: (typeof REQUIRED)[number]) => field(row, name)
    const quantity = parseInteger(at('Quantity'))
    if (quantity === undefined) throw malformed(path, line, 'Quantity must be an integer', at('Quantity'))
    const dateText = at('InvoiceDate').trim()
    const timestamp = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(dateText) ? dateText : `${dateText}Z`)
    if (!/^\d{4}-\d\d-\d\d/.test(dateText) || Number.isNaN(timestamp)) {
      throw malformed(path, line, 'InvoiceDate must be an ISO 8601 date-time', dateText)
    }
    const customer = at('CustomerID').trim()
    const code = at('StockCode').trim()
    if (customer === '') skip('no_customer_id')
    else if (quantity <= 0) skip('non_positive_quantity')
    else if (!PRODUCT_CODE.test(code)) skip('non_product_code')
    else interactions.push({ user: customer, item: code, type: 'purchase', timestamp })
  }
  return { format: 'online-retail', path, interactions, skipped }
}
