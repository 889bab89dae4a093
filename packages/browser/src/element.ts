/**
 * The entry that defines `<fedrec-recommendations>` as it loads, for pages that want the element with one
 * import (or one `<script type="module">`); everything of the main entry is re-exported, so the page needs
 * no second import for `createRecommender()`. The main entry `@fedrec/browser` has no side effects.
 * @example import '@fedrec/browser/element' // then <fedrec-recommendations endpoint="…"> works
 * @module
 */
import { defineRecommendationsElement } from './widget/define.ts'

export * from './index.ts'

defineRecommendationsElement()
