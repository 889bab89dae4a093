import { describe, expect, it } from 'vitest'
import { headingFor, loadedAnnouncement, reasonFor, storedLines, whyLabel } from './strings.ts'

describe('the widget texts', () => {
  it('keeps the heading attribute unless it would be untrue for the list shown', () => {
    expect(headingFor('loading', 'for-you', null)).toBe('Recommended for you')
    expect(headingFor('personal', 'for-you', 'Picked for you')).toBe('Picked for you')
    expect(headingFor('similar', 'similar', 'Because you viewed X')).toBe('Because you viewed X')
    expect(headingFor('loading', 'similar', 'Because you viewed X')).toBe('Because you viewed X')
    expect(headingFor('personal', 'similar', 'Because you viewed X')).toBe('Recommended for you')
    expect(headingFor('popular', 'similar', 'Because you viewed X')).toBe('Popular right now')
    expect(headingFor('empty', 'similar', 'Because you viewed X')).toBe('Popular right now')
  })

  it('answers "why this?" by state and nearest own item', () => {
    expect(reasonFor('popular', 'Mug')).toMatch(/^Popular with shoppers across the store/)
    expect(reasonFor('degraded', null)).toMatch(/^Popular with shoppers across the store/)
    expect(reasonFor('personal', null)).toBe(
      'It matches the taste profile your browser learned from your activity.',
    )
    expect(reasonFor('similar', 'Mug')).toBe('Similar to Mug in the shared model.')
    expect(reasonFor('personal', 'Mug')).toBe(
      'Because you looked at Mug: the two are close in what your browser learned.',
    )
  })

  it('labels and announcements', () => {
    expect(whyLabel('Mug')).toBe('Why this? Mug')
    expect(loadedAnnouncement(3, 'Recommended for you')).toBe('3 Recommended for you loaded')
    expect(loadedAnnouncement(1, null)).toBe('1 recommendations loaded')
  })

  it('counts what is stored, in the singular and the plural', () => {
    expect(storedLines({ events: 1, items: 1, profile: false, model: null })).toEqual([
      '1 interaction with 1 product',
      'No taste profile yet',
      'No copy of the shared model yet',
    ])
    expect(storedLines({ events: 3, items: 2, profile: true, model: { version: 7, bytes: 2560 } })).toEqual([
      '3 interactions with 2 products',
      'A taste profile trained on this device',
      'The shared model, version 7 (3 KB)',
    ])
  })
})
