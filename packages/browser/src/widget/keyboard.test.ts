import { describe, expect, it } from 'vitest'
import { targetPosition } from './keyboard.ts'

describe('moving between items with the keyboard', () => {
  it('arrows step one item and stop at the ends; Home and End jump', () => {
    expect(targetPosition('ArrowRight', 0, 3)).toBe(1)
    expect(targetPosition('ArrowRight', 3, 3)).toBe(3)
    expect(targetPosition('ArrowLeft', 2, 3)).toBe(1)
    expect(targetPosition('ArrowLeft', 0, 3)).toBe(0)
    expect(targetPosition('Home', 2, 3)).toBe(0)
    expect(targetPosition('End', 0, 3)).toBe(3)
  })

  it('other keys do not move', () => {
    expect(targetPosition('Tab', 0, 3)).toBeNull()
    expect(targetPosition('ArrowDown', 0, 3)).toBeNull()
  })
})
