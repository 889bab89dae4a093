/** Round-robin over groups, so "everything" mixes the departments as a shop floor would. Pure: tested in Node. */

/**
 * Round-robin over groups in first-seen order: a1 b1 c1 a2 b2 c2 …
 * @example interleave(['a1', 'a2', 'b1'], (s) => s[0]!) // ['a1', 'b1', 'a2']
 */
export function interleave<T>(items: readonly T[], key: (item: T) => string): T[] {
  const groups = new Map<string, T[]>()
  for (const item of items) {
    const k = key(item)
    const group = groups.get(k)
    if (group) group.push(item)
    else groups.set(k, [item])
  }
  const out: T[] = []
  const queues = [...groups.values()]
  for (let i = 0; out.length < items.length; i++) {
    for (const queue of queues) {
      const item = queue[i]
      if (item !== undefined) out.push(item)
    }
  }
  return out
}
