// IndexedDB writes with a code to act on when they fail.
import { FedrecError } from '../errors.ts'

/** IndexedDB writes fail when the origin is out of quota (QuotaExceededError): say so with a code to act on. */
export async function persist<T>(what: string, write: Promise<T>): Promise<T> {
  try {
    return await write
  } catch (cause) {
    throw new FedrecError('storage', `could not store ${what}: ${String(cause)}`, { cause })
  }
}
