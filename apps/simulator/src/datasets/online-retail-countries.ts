// Online Retail's customers' countries: the attribute the shops experiment splits this shop by (shops.ts).
import { parseCsvTable } from './csv.ts'

/**
 * Each customer's country from the Online Retail CSV (columns `CustomerID`, `Country`): the first country
 * on the customer's lines (a customer id lists one country in the data; lines without a customer are
 * skipped, as the interaction loader skips them).
 * @throws DatasetError for a file without those columns or a line of the wrong width
 * @example customerCountries(text, 'online-retail.csv').get('17850') // 'United Kingdom'
 */
export function customerCountries(text: string, path: string): Map<string, string> {
  const { rows, field } = parseCsvTable(text, path, ['CustomerID', 'Country'])
  const countries = new Map<string, string>()
  for (const row of rows) {
    const customer = field(row, 'CustomerID').trim()
    if (customer !== '' && !countries.has(customer)) countries.set(customer, field(row, 'Country').trim())
  }
  return countries
}
