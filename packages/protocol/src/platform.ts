// The few platform globals this package uses. Browsers, workers and Node ≥ 18 all have them; typing them
// here (rather than pulling in the DOM or Node typings) keeps the package honest about being neither, and
// does not clash with those typings in packages that do load them.
interface Platform {
  TextEncoder: new () => { encode(input: string): Uint8Array }
  TextDecoder: new (label: string, options: { fatal: boolean }) => { decode(input: Uint8Array): string }
  crypto: {
    getRandomValues(array: Uint8Array): Uint8Array
    subtle: { digest(algorithm: 'SHA-256', data: Uint8Array<ArrayBuffer>): Promise<ArrayBuffer> }
  }
}

export const platform = globalThis as unknown as Platform
