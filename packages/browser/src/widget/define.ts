// Where the widget becomes a custom element of the page, for shops that use the tag rather than the API.
import { FedrecRecommendations, WIDGET_TAG } from './element.ts'

/**
 * Registers `<fedrec-recommendations>` (once; importing `@fedrec/browser/element` does it). Does nothing where there
 * is no DOM (a worker, server-side rendering).
 * @example defineRecommendationsElement() // then <fedrec-recommendations endpoint="…"> works
 */
export function defineRecommendationsElement(): void {
  if (typeof customElements === 'undefined' || customElements.get(WIDGET_TAG)) return
  customElements.define(WIDGET_TAG, FedrecRecommendations)
}

declare global {
  interface HTMLElementTagNameMap {
    'fedrec-recommendations': FedrecRecommendations
  }
}
