// How the storefront writes prices and counts.
const money = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' })

/** '$12.50' */
export const formatPrice = (amount: number): string => money.format(amount)

/** '3 items', '1 item' */
export const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`
