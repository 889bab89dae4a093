import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { DatasetError } from '../errors.ts'
import { loadDataset, parseGenericCsv, parseMovieLens, parseOnlineRetail, parseOtto } from './index.ts'

const dir = mkdtempSync(join(tmpdir(), 'fedrec-sim-data-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function expectMalformed(f: () => unknown, where: string): void {
  try {
    f()
  } catch (err) {
    expect(err).toBeInstanceOf(DatasetError)
    expect((err as DatasetError).code).toBe('malformed_line')
    expect((err as Error).message).toContain(where)
    return
  }
  throw new Error('expected a DatasetError')
}

describe('MovieLens u.data', () => {
  it('reads every rating as an interaction, seconds as milliseconds', () => {
    const data = parseMovieLens('196\t242\t3\t881250949\n186\t302\t3\t891717742\n\n', 'u.data')
    expect(data.interactions).toEqual([
      { user: '196', item: '242', type: 'click', timestamp: 881250949000 },
      { user: '186', item: '302', type: 'click', timestamp: 891717742000 },
    ])
  })

  it('names the file and line of a malformed line', () => {
    expectMalformed(
      () => parseMovieLens('1\t2\t3\t4\n1\t2\t3\n', 'u.data'),
      'u.data:2: expected 4 tab-separated fields, got 3',
    )
    expectMalformed(
      () => parseMovieLens('1\t2\t3\t4\n\n1\tx\t3\t4\n', 'u.data'),
      'u.data:3: user, item, rating and timestamp must be integers',
    )
  })
})

const RETAIL_HEADER = 'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country'

describe('UCI Online Retail', () => {
  it('keeps sales with a customer, skips and counts the rest', () => {
    const csv = [
      RETAIL_HEADER,
      '536365,85123A,"WHITE HANGING HEART T-LIGHT HOLDER",6,2010-12-01T08:26:00,2.55,17850,United Kingdom',
      '536366,22633,"HAND WARMER, UNION JACK",6,2010-12-01T08:28:00,1.85,,United Kingdom',
      'C536379,D,Discount,-1,2010-12-01T09:41:00,27.5,14527,United Kingdom',
      '536370,POST,POSTAGE,3,2010-12-01T08:45:00,18,12583,France',
      '536371,22086,"PAPER CHAIN KIT ""50\'S"" CHRISTMAS",80,2010-12-01T09:00:00,2.55,13748,United Kingdom',
      '536372,22632,HAND WARMER,0,2010-12-01T09:01:00,1.85,17850,United Kingdom',
    ].join('\n')
    const data = parseOnlineRetail(csv, 'retail.csv')
    expect(data.interactions).toEqual([
      { user: '17850', item: '85123A', type: 'purchase', timestamp: Date.UTC(2010, 11, 1, 8, 26) },
      { user: '13748', item: '22086', type: 'purchase', timestamp: Date.UTC(2010, 11, 1, 9, 0) },
    ])
    expect(data.skipped).toEqual({ no_customer_id: 1, non_positive_quantity: 2, non_product_code: 1 })
  })

  it('names the file and line of a malformed line', () => {
    expectMalformed(
      () =>
        parseOnlineRetail(
          `${RETAIL_HEADER}\n536365,85123A,X,6,2010-12-01T08:26:00,2.55,17850,UK\n536365,85123A,X,six,2010-12-01T08:26:00,2.55,17850,UK\n`,
          'retail.csv',
        ),
      'retail.csv:3: Quantity must be an integer',
    )
    expectMalformed(
      () => parseOnlineRetail(`${RETAIL_HEADER}\n536365,85123A,X,6,yesterday,2.55,17850,UK\n`, 'retail.csv'),
      'retail.csv:2: InvoiceDate must be an ISO 8601 date-time',
    )
    expectMalformed(
      () => parseOnlineRetail(`${RETAIL_HEADER}\n536365,85123A,X,6\n`, 'retail.csv'),
      'retail.csv:2: expected 8 fields, got 4',
    )
    expectMalformed(
      () => parseOnlineRetail('InvoiceNo,StockCode\n1,2\n', 'retail.csv'),
      'retail.csv:1: header lacks column(s) Quantity, InvoiceDate, CustomerID',
    )
    // A quoted field with a newline: the record after it starts on line 4, and its error says so.
    expectMalformed(
      () =>
        parseOnlineRetail(
          `${RETAIL_HEADER}\n536365,85123A,"TWO\nLINES",6,2010-12-01T08:26:00,2.55,17850,UK\n536365,85123A,X,-,2010-12-01T08:26:00,2.55,17850,UK\n`,
          'retail.csv',
        ),
      'retail.csv:4:',
    )
    expectMalformed(
      () => parseOnlineRetail(`${RETAIL_HEADER}\n536365,"unclosed,6\n`, 'retail.csv'),
      'retail.csv:',
    )
  })
})

describe('OTTO JSON lines', () => {
  it('maps clicks, carts and orders, one shopper per session', () => {
    const text =
      '{"session":0,"events":[{"aid":5,"ts":1659304800025,"type":"clicks"},{"aid":7,"ts":1659304900000,"type":"carts"}]}\n{"session":1,"events":[{"aid":7,"ts":1659305000000,"type":"orders"}]}\n'
    expect(parseOtto(text, 'train.jsonl').interactions).toEqual([
      { user: '0', item: '5', type: 'click', timestamp: 1659304800025 },
      { user: '0', item: '7', type: 'add_to_cart', timestamp: 1659304900000 },
      { user: '1', item: '7', type: 'purchase', timestamp: 1659305000000 },
    ])
  })

  it('names the file and line of a malformed line', () => {
    expectMalformed(
      () => parseOtto('{"session":0,"events":[]}\n{"session":1,"events":[\n', 'train.jsonl'),
      'train.jsonl:2: not JSON',
    )
    expectMalformed(
      () => parseOtto('{"session":0,"events":[{"aid":5,"ts":1,"type":"views"}]}', 'train.jsonl'),
      'train.jsonl:1: events[0] must be',
    )
    // A name of Object.prototype is not an event type either.
    expectMalformed(
      () => parseOtto('{"session":0,"events":[{"aid":5,"ts":1,"type":"toString"}]}', 'train.jsonl'),
      'train.jsonl:1: events[0] must be',
    )
    expectMalformed(
      () => parseOtto('[1,2]', 'train.jsonl'),
      'train.jsonl:1: expected an object with "session" and "events"',
    )
  })
})

describe('generic CSV', () => {
  it('reads user,item,type,timestamp with or without a header, numbers or ISO dates', () => {
    const data = parseGenericCsv(
      'user,item,type,timestamp\nu1,sku-1,purchase,17\nu2,"sku,2",add_to_cart,2024-01-02T03:04:05Z\n',
      'e.csv',
    )
    expect(data.interactions).toEqual([
      { user: 'u1', item: 'sku-1', type: 'purchase', timestamp: 17 },
      { user: 'u2', item: 'sku,2', type: 'add_to_cart', timestamp: Date.UTC(2024, 0, 2, 3, 4, 5) },
    ])
    expect(parseGenericCsv('u1,sku-1,click,1\n', 'e.csv').interactions).toHaveLength(1)
  })

  it('names the file and line of a malformed line', () => {
    expectMalformed(
      () => parseGenericCsv('user,item,type,timestamp\nu1,sku-1,view,1\n', 'e.csv'),
      'e.csv:2: type must be click, add_to_cart or purchase',
    )
    expectMalformed(
      () => parseGenericCsv('u1,sku-1,click,1\nu1,sku-1,click,soon\n', 'e.csv'),
      'e.csv:2: timestamp must be a number or an ISO 8601 date',
    )
    expectMalformed(() => parseGenericCsv('u1,sku-1,click\n', 'e.csv'), 'e.csv:1: expected 4 fields, got 3')
    expectMalformed(
      () => parseGenericCsv('u1,,click,1\n', 'e.csv'),
      'e.csv:1: user and item must not be empty',
    )
  })
})

describe('loadDataset', () => {
  it('reads a file, and refuses a missing or empty one with the path in the message', () => {
    const file = join(dir, 'u.data')
    writeFileSync(file, '1\t2\t5\t10\n')
    expect(loadDataset('movielens', file).interactions).toHaveLength(1)
    expect(() => loadDataset('movielens', join(dir, 'nope.data'))).toThrow(/cannot read .*nope\.data/)
    const empty = join(dir, 'empty.csv')
    writeFileSync(empty, 'user,item,type,timestamp\n')
    expect(() => loadDataset('generic', empty)).toThrow(/empty\.csv: no usable interactions/)
  })
})
