import { describe, expect, it } from 'vitest'
import { parseCatalogue } from '../catalogue.ts'
import { featuredProducts } from './featured.ts'

const entry = (id: string, category: string) => ({
  id,
  name: id,
  category,
  price: 1,
  description: '',
  color: '#123456',
})

describe('featuredProducts', () => {
  it('takes the first two of each department, departments in turn', () => {
    const catalogue = parseCatalogue([
      entry('k1', 'Kitchen'),
      entry('g1', 'Garden'),
      entry('k2', 'Kitchen'),
      entry('k3', 'Kitchen'),
      entry('b1', 'Books'),
      entry('g2', 'Garden'),
      entry('g3', 'Garden'),
    ])
    expect(featuredProducts(catalogue).map((p) => p.id)).toEqual(['k1', 'g1', 'b1', 'k2', 'g2'])
  })
})
