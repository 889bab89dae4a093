// The widget's own look, inside its shadow root. Everything a shop may want to change is a CSS custom
// property (inherited through the shadow boundary) or reachable with ::part(); the product cards themselves
// are the shop's light-DOM nodes, slotted in, so the shop's stylesheet styles them as usual.
export const WIDGET_CSS = `
:host {
  display: block;
  font-family: var(--fedrec-font, inherit);
  color: var(--fedrec-color-text, inherit);
  --_accent: var(--fedrec-color-accent, #2f6f4f);
  --_muted: var(--fedrec-color-muted, #5b6460);
  --_surface: var(--fedrec-color-surface, #ffffff);
  --_border: var(--fedrec-color-border, #d9ded9);
  --_radius: var(--fedrec-radius, 12px);
  --_gap: var(--fedrec-gap, 16px);
  --_item: var(--fedrec-item-width, 220px);
  --_skeleton: var(--fedrec-skeleton-color, #e9ece8);
  --_focus: var(--fedrec-focus-ring, 3px solid var(--_accent));
}
:host([hidden]) { display: none; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
/* minmax(0, 1fr): the scrolling list must not widen the widget to the width of all its items. */
section { display: grid; grid-template-columns: minmax(0, 1fr); gap: calc(var(--_gap) * 0.75); }
header { display: flex; align-items: flex-end; justify-content: space-between; gap: var(--_gap); flex-wrap: wrap; }
[part~='heading'] { margin: 0; font-size: var(--fedrec-heading-size, 1.35rem); line-height: 1.25; }
[part~='label'] { margin: 0.2rem 0 0; color: var(--_muted); font-size: 0.9rem; display: flex; gap: 0.5rem; align-items: center; flex-wrap: wrap; }
[part~='badge'] {
  display: inline-block; padding: 0.1rem 0.55rem; border-radius: 999px; font-size: 0.75rem; font-weight: 600;
  background: var(--fedrec-badge-background, color-mix(in srgb, var(--_accent) 14%, transparent));
  color: var(--fedrec-badge-color, var(--_accent));
}
button {
  font: inherit; font-size: 0.875rem; cursor: pointer; color: var(--_accent); background: transparent;
  border: 1px solid var(--_border); border-radius: 999px; padding: 0.35rem 0.85rem; min-height: 2.25rem;
}
button:hover { border-color: var(--_accent); }
button:focus-visible { outline: var(--_focus); outline-offset: 2px; }
button:disabled { opacity: 0.55; cursor: not-allowed; }
button[aria-pressed='true'] { background: var(--_accent); color: var(--_surface); border-color: var(--_accent); }
[part~='danger'] { color: var(--fedrec-color-danger, #a3261b); }
[part~='list'] {
  list-style: none; margin: 0; padding: 0.25rem 0.25rem 0.75rem; display: grid; grid-auto-flow: column;
  grid-auto-columns: var(--_item); gap: var(--_gap); overflow-x: auto; scroll-snap-type: x proximity;
  overscroll-behavior-x: contain;
}
[part~='item'] { scroll-snap-align: start; display: flex; flex-direction: column; gap: 0.4rem; min-width: 0; }
::slotted(*) { flex: 1; }
[part~='why-button'] { align-self: flex-start; font-size: 0.8rem; min-height: 2rem; padding: 0.2rem 0.7rem; }
[part~='why'] { margin: 0; font-size: 0.82rem; color: var(--_muted); }
[part~='skeleton'] {
  height: var(--fedrec-skeleton-height, 280px); border-radius: var(--_radius); background: var(--_skeleton);
  animation: fedrec-pulse 1.4s ease-in-out infinite;
}
@keyframes fedrec-pulse { 50% { opacity: 0.55; } }
@media (prefers-reduced-motion: reduce) { [part~='skeleton'] { animation: none; } }
[part~='empty'] { margin: 0; padding: 1rem; border: 1px dashed var(--_border); border-radius: var(--_radius); color: var(--_muted); }
[part~='privacy-panel'] {
  border: 1px solid var(--_border); border-radius: var(--_radius); background: var(--_surface);
  padding: var(--_gap); display: grid; gap: 0.6rem; font-size: 0.9rem;
}
[part~='privacy-panel'] h3 { margin: 0; font-size: 1rem; }
[part~='privacy-panel'] p, [part~='privacy-panel'] ul { margin: 0; }
[part~='privacy-panel'] ul { padding-left: 1.2rem; }
.actions { display: flex; gap: 0.5rem; flex-wrap: wrap; }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
`
