import { describe, expect, it } from 'vitest'
import { DB_VERSION, openFedrecDB, readEvents } from './db.ts'

/** Opens `name` at schema version 1 the way an older release did, and keeps the connection open. */
function openOldSchema(name: string): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(name, 1)
    req.onupgradeneeded = () => {
      const events = req.result.createObjectStore('events', { keyPath: 'id', autoIncrement: true })
      events.createIndex('byItem', 'itemId')
      events.createIndex('byTs', 'ts')
      req.result.createObjectStore('profile', { keyPath: 'key' })
      req.result.createObjectStore('model', { keyPath: 'key' })
      req.result.createObjectStore('unused')
    }
    req.onsuccess = () => resolve(req.result)
    req.onerror = () => reject(req.error)
  })
}

describe('openFedrecDB', () => {
  it('fails at once, naming the cause, when another connection blocks the upgrade; upgrades once it closes', async () => {
    expect(DB_VERSION).toBeGreaterThan(1)
    const name = `blocked-${crypto.randomUUID()}`
    const old = await openOldSchema(name)
    await new Promise<void>((resolve, reject) => {
      const tx = old.transaction('events', 'readwrite')
      tx.objectStore('events').add({ type: 'purchase', itemId: 'sku-1', ts: 5 })
      tx.oncomplete = () => resolve()
      tx.onerror = () => reject(tx.error)
    })
    // The old connection has no versionchange handler: it never lets go on its own.
    await expect(openFedrecDB(name)).rejects.toThrow(/another tab keeps .* open at schema version 1/)

    old.close()
    const db = await openFedrecDB(name)
    expect(db.version).toBe(DB_VERSION)
    expect(await readEvents(db)).toEqual([{ id: 1, type: 'purchase', itemId: 'sku-1', ts: 5 }])
    db.close()
  })
})
