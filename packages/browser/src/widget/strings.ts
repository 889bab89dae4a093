/** Every word a shopper sees (or hears from a screen reader) in the widget, in one place for translation. */
import type { LocalData } from '../recommender.ts'
import type { WidgetMode } from './attributes.ts'
import type { WidgetState } from './types.ts'

/** The widget's fixed texts. */
export const TEXT = {
  forYouHeading: 'Recommended for you',
  popularHeading: 'Popular right now',
  loading: 'Loading recommendations…',
  emptyLabel: 'Learned privately, on this device',
  empty: "Browse a few products and we'll learn what you like — privately, on this device.",
  whyButton: 'Why this?',
  /** What the live region calls the list when it has no heading. */
  recommendations: 'recommendations',
  privacyButton: 'Your data',
  privacyRegion: 'Your data and these recommendations',
  privacyTitle: 'Your data',
  whatLeaves:
    'What leaves this device: changes to the shared model’s weights for the products you interacted with (and a few picked at random), with a random id, when your browser takes part in a training round; whoever runs the service could tell from them which products you interacted with. Your events, their times and your taste profile never leave it.',
  learningUnavailable:
    'Learning is not available in this browser, so nothing about you is stored or sent. The suggestions are what is popular with other shoppers.',
  nothingLeaves:
    'What leaves this device: nothing about you. The page only downloads the shared model to find popular items.',
  storedTitle: 'Stored only in this browser:',
  profile: 'A taste profile trained on this device',
  noProfile: 'No taste profile yet',
  noModel: 'No copy of the shared model yet',
  pause: 'Pause learning',
  paused: 'Learning paused',
  resumed: 'Learning resumed',
  erase: 'Erase everything',
  eraseConfirm: 'Yes, erase everything',
  cancel: 'Cancel',
  erased: 'Everything this device knew about you is erased',
  pausedStatus: 'Learning is paused: nothing new is recorded or sent.',
  learningStatus: 'Learning is on: your clicks, carts and purchases teach your browser, not our servers.',
} as const

/** The badge and the note beside the heading, per state with items. */
export const BADGES: Record<Exclude<WidgetState, 'loading' | 'empty'>, [badge: string, note: string]> = {
  personal: ['For you', 'Learned from your browsing, on this device'],
  similar: ['Similar', 'Close to this item in the shared model'],
  popular: ['Popular', 'What shoppers like right now — personal picks follow as you browse'],
  degraded: ['Popular', 'What shoppers like right now'],
}

/**
 * The heading: the `heading` attribute (`custom`) unless it would be untrue for what is shown.
 * @example headingFor('popular', 'similar', 'Because you viewed X') // 'Popular right now'
 */
export function headingFor(state: WidgetState, mode: WidgetMode, custom: string | null): string {
  const heading = custom ?? TEXT.forYouHeading
  // "Because you viewed X" over a list that is not about X would be untrue: say what the list is.
  if (mode === 'similar' && state !== 'similar' && state !== 'loading') {
    return state === 'personal' ? TEXT.forYouHeading : TEXT.popularHeading
  }
  return heading
}

/**
 * The answer to "why this?"; `because` is the label of the shopper's own item it is closest to, if any.
 * @example reasonFor('similar', 'Red mug') // 'Similar to Red mug in the shared model.'
 */
export function reasonFor(state: WidgetState, because: string | null): string {
  if (state === 'popular' || state === 'degraded')
    return 'Popular with shoppers across the store. The shared model learns this from everyone’s anonymous updates.'
  if (because === null) return 'It matches the taste profile your browser learned from your activity.'
  return state === 'similar'
    ? `Similar to ${because} in the shared model.`
    : `Because you looked at ${because}: the two are close in what your browser learned.`
}

/**
 * The accessible name of a "why this?" button: the visible text first (WCAG 2.5.3, label in name), then
 * which product it is about.
 * @example whyLabel('Red mug') // 'Why this? Red mug'
 */
export const whyLabel = (label: string): string => `${TEXT.whyButton} ${label}`

/**
 * What the live region announces when a list arrives.
 * @example loadedAnnouncement(3, 'Recommended for you') // '3 Recommended for you loaded'
 */
export const loadedAnnouncement = (count: number, heading: string | null): string =>
  `${count} ${heading ?? TEXT.recommendations} loaded`

/**
 * The privacy panel's list of what is stored in this browser.
 * @example storedLines({ events: 1, items: 1, profile: false, model: null, paused: false })[0] // '1 interaction with 1 product'
 */
export function storedLines(data: Pick<LocalData, 'events' | 'items' | 'profile' | 'model'>): string[] {
  return [
    `${data.events} ${data.events === 1 ? 'interaction' : 'interactions'} with ${data.items} ${data.items === 1 ? 'product' : 'products'}`,
    data.profile ? TEXT.profile : TEXT.noProfile,
    data.model
      ? `The shared model, version ${data.model.version} (${Math.round(data.model.bytes / 1024)} KB)`
      : TEXT.noModel,
  ]
}
