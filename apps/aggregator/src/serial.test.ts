// The per-process lock: sections run one at a time in the order asked, whatever their outcome; a section
// that asks for the lock again from inside itself is refused instead of waiting for itself forever.
import { describe, expect, it } from 'vitest'
import { createSerial } from './serial.ts'

/** A promise and the function that resolves it: a section that holds the lock until the test says so. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open = (): void => {}
  const opened = new Promise<void>((resolve) => {
    open = resolve
  })
  return { opened, open }
}

describe('createSerial', () => {
  it('runs sections one at a time, in the order asked, whatever their outcome', async () => {
    const serial = createSerial('test')
    const order: string[] = []
    const first = gate()
    const a = serial('a', async () => {
      order.push('a starts')
      await first.opened
      order.push('a ends')
      throw new Error('a failed')
    })
    const b = serial('b', async () => {
      order.push('b')
      return 2
    })
    // b was asked for while a holds the lock: it has not started.
    await Promise.resolve()
    expect(order).toEqual(['a starts'])
    first.open()
    await expect(a).rejects.toThrow('a failed')
    expect(await b).toBe(2)
    expect(order).toEqual(['a starts', 'a ends', 'b'])
  })

  it('knows the section of the caller, and only while that section runs', async () => {
    const serial = createSerial('test')
    let later: Promise<string | undefined> = Promise.resolve(undefined)
    const gone = gate()
    const inside = await serial('upload', async () => {
      // Started inside, run after the section ended: no longer inside it.
      later = gone.opened.then(() => serial.current())
      return serial.current()
    })
    gone.open()
    expect(inside).toBe('upload')
    expect(await later).toBeUndefined()
    expect(serial.current()).toBeUndefined()
  })

  it('refuses a nested section, naming both, instead of waiting forever', async () => {
    const serial = createSerial('round')
    await expect(serial('close', () => serial('deadline', async () => 1))).rejects.toThrow(
      'deadline asked for the round lock from inside close, which holds it: it would wait for itself forever',
    )
    // The lock is free again afterwards.
    expect(await serial('next', async () => 'ran')).toBe('ran')
  })

  it('lets a detached task started inside a section take the lock once the section has ended', async () => {
    const serial = createSerial('round')
    let task: Promise<string> = Promise.resolve('not started')
    await serial('upload', async () => {
      task = serial.detach(() => serial('flush', async () => 'flushed'))
    })
    expect(await task).toBe('flushed')
  })
})
