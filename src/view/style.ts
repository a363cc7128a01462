/** The viewer's stylesheet, inlined in index.html and allowed by its hash in the page's CSP. */
export const STYLE = String.raw`
:root {
  color-scheme: light dark;
  --bg: #f5f7f9; --panel: #ffffff; --panel-2: #eef2f5; --fg: #0f1419; --muted: #5b6b78; --line: #dde3e8;
  --accent: #1d7fd6; --accent-fg: #ffffff; --tile: #e3e9ee; --shadow: 0 1px 2px rgb(15 20 25 / .06), 0 8px 24px rgb(15 20 25 / .06);
  --radius: 12px; --gap: 10px;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", "Noto Sans", sans-serif;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0c0f12; --panel: #15191e; --panel-2: #1d2329; --fg: #e8ecef; --muted: #93a1ad; --line: #2a3138;
    --accent: #4aa8ff; --accent-fg: #06121d; --tile: #1b2026; --shadow: 0 1px 2px rgb(0 0 0 / .4), 0 8px 24px rgb(0 0 0 / .35);
  }
}
* { box-sizing: border-box; }
html { background: var(--bg); color: var(--fg); }
body { margin: 0; min-height: 100vh; -webkit-font-smoothing: antialiased; }
button, input { font: inherit; color: inherit; }
[hidden] { display: none !important; }
.sr-only { position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }

.top { position: sticky; top: 0; z-index: 5; background: color-mix(in srgb, var(--bg) 86%, transparent);
  backdrop-filter: saturate(1.4) blur(14px); border-bottom: 1px solid var(--line); }
.bar { max-width: 1600px; margin: 0 auto; padding: 14px 24px 10px; display: flex; flex-wrap: wrap; gap: 12px 24px; align-items: center; justify-content: space-between; }
.brand { display: flex; gap: 12px; align-items: center; min-width: 0; }
.logo { flex: none; width: 40px; height: 40px; border-radius: 11px; display: grid; place-items: center; background: var(--accent); color: var(--accent-fg); }
.logo svg { width: 22px; height: 22px; }
h1 { margin: 0; font-size: 20px; line-height: 1.2; font-weight: 750; letter-spacing: -.01em; overflow-wrap: anywhere; }
.summary { margin: 2px 0 0; color: var(--muted); font-size: 13px; font-variant-numeric: tabular-nums; }

.filters { display: flex; flex-wrap: wrap; gap: 8px 10px; align-items: center; }
.search { position: relative; display: flex; align-items: center; }
.search svg { position: absolute; left: 11px; width: 16px; height: 16px; color: var(--muted); pointer-events: none; }
.search input { width: 260px; height: 36px; padding: 0 12px 0 34px; border: 1px solid var(--line); border-radius: 999px; background: var(--panel); }
.search input::placeholder { color: var(--muted); }
.types { display: flex; margin: 0; padding: 3px; border: 1px solid var(--line); border-radius: 999px; background: var(--panel); }
.types input { position: absolute; opacity: 0; width: 1px; height: 1px; pointer-events: none; }
.types label { padding: 4px 11px; border-radius: 999px; font-size: 13px; font-weight: 600; color: var(--muted); cursor: pointer; white-space: nowrap; user-select: none; }
.types label:hover { color: var(--fg); }
.types input:checked + label { background: var(--fg); color: var(--bg); }
.types input:focus-visible + label { outline: 3px solid var(--accent); outline-offset: 1px; }
.types .n { font-weight: 500; opacity: .7; font-variant-numeric: tabular-nums; }
.dates { display: flex; gap: 6px; align-items: center; }
.dates label { display: flex; gap: 6px; align-items: center; font-size: 13px; color: var(--muted); }
.dates input { height: 36px; padding: 0 8px; border: 1px solid var(--line); border-radius: 10px; background: var(--panel); color: var(--fg); }
.clear, .button { height: 36px; padding: 0 14px; border: 1px solid var(--line); border-radius: 999px; background: var(--panel); cursor: pointer; font-weight: 600; font-size: 13px; }
.clear:hover, .button:hover { background: var(--panel-2); }
.status { max-width: 1600px; margin: 0 auto; padding: 0 24px 8px; color: var(--muted); font-size: 12.5px; min-height: 1.45em; }

main { max-width: 1600px; margin: 0 auto; padding: 18px 24px 48px; }
.grid { position: relative; }
.tile { position: absolute; left: 0; top: 0; padding: 0; border: 0; border-radius: var(--radius); overflow: hidden; background: var(--tile);
  cursor: zoom-in; box-shadow: var(--shadow); contain: strict; }
.tile img, .tile video { display: block; width: 100%; height: 100%; object-fit: cover; transition: transform .25s ease; }
.tile:hover img, .tile:hover video { transform: scale(1.035); }
.tile:focus-visible { outline-offset: 3px; }
.tile.motion { background: radial-gradient(120% 90% at 30% 20%, #3a4654, #12171c); }
.play { position: absolute; inset: 0; margin: auto; width: 46px; height: 46px; border-radius: 50%; background: rgb(0 0 0 / .5);
  display: grid; place-items: center; color: #fff; pointer-events: none; transition: opacity .2s; }
.play svg { width: 20px; height: 20px; margin-left: 3px; }
.tile.playing .play { opacity: 0; }
.badge { position: absolute; left: 8px; top: 8px; padding: 2px 7px; border-radius: 6px; background: rgb(0 0 0 / .62); color: #fff;
  font-size: 11px; font-weight: 700; letter-spacing: .03em; font-variant-numeric: tabular-nums; pointer-events: none; }
.cap { position: absolute; inset: auto 0 0 0; padding: 28px 10px 9px; color: #fff; text-align: start; font-size: 12.5px; line-height: 1.35;
  background: linear-gradient(transparent, rgb(0 0 0 / .78)); opacity: 0; transform: translateY(6px); transition: opacity .18s, transform .18s; pointer-events: none; }
.tile:hover .cap, .tile:focus-visible .cap { opacity: 1; transform: none; }
.cap b { display: block; font-weight: 650; font-size: 11.5px; opacity: .9; }
.cap span { display: -webkit-box; -webkit-line-clamp: 2; -webkit-box-orient: vertical; overflow: hidden; unicode-bidi: isolate; overflow-wrap: anywhere; }

.empty { max-width: 460px; margin: 12vh auto; text-align: center; color: var(--muted); }
.empty .mark { width: 64px; height: 64px; margin: 0 auto 14px; border-radius: 18px; display: grid; place-items: center; background: var(--panel-2); color: var(--muted); }
.empty .mark svg { width: 30px; height: 30px; }
.empty h2 { margin: 0 0 6px; color: var(--fg); font-size: 19px; }
.empty p { margin: 0 0 16px; }
.empty code { padding: 1px 5px; border-radius: 5px; background: var(--panel-2); font-size: 13px; }

.detail { width: min(1240px, 96vw); height: min(860px, 92vh); max-width: none; max-height: none; padding: 0; border: 0; border-radius: 16px;
  overflow: hidden; background: var(--panel); color: var(--fg); box-shadow: 0 24px 80px rgb(0 0 0 / .5); }
.detail[open] { display: grid; grid-template-columns: minmax(0, 1fr) 360px; }
.detail::backdrop { background: rgb(5 8 12 / .78); backdrop-filter: blur(4px); }
.stage { position: relative; min-height: 0; background: #000; display: grid; place-items: center; }
.stage .media { position: absolute; inset: 0; width: 100%; height: 100%; object-fit: contain; display: block; }
.stage .nav { position: absolute; top: 50%; transform: translateY(-50%); width: 42px; height: 42px; border: 0; border-radius: 50%;
  background: rgb(255 255 255 / .14); color: #fff; cursor: pointer; display: grid; place-items: center; }
.stage .nav:hover { background: rgb(255 255 255 / .26); }
.stage .nav:disabled { opacity: 0; pointer-events: none; }
.stage .nav svg { width: 20px; height: 20px; }
.prev { left: 12px; } .next { right: 12px; }
.info { display: flex; flex-direction: column; gap: 14px; min-height: 0; padding: 18px 20px; overflow-y: auto; border-left: 1px solid var(--line); }
.info-head { display: flex; align-items: flex-start; justify-content: space-between; gap: 12px; }
.who { margin: 0; font-size: 16px; font-weight: 700; overflow-wrap: anywhere; }
.when { margin: 2px 0 0; color: var(--muted); font-size: 13px; }
.icon { flex: none; width: 34px; height: 34px; border: 0; border-radius: 50%; background: var(--panel-2); cursor: pointer; display: grid; place-items: center; }
.icon svg { width: 16px; height: 16px; }
.text { margin: 0; font-size: 15.5px; line-height: 1.5; white-space: pre-wrap; overflow-wrap: anywhere; unicode-bidi: plaintext; }
.notext { margin: 0; padding: 10px 12px; border-radius: 10px; background: var(--panel-2); color: var(--muted); font-size: 13px; }
.alt { margin: 0; padding: 10px 12px; border-radius: 10px; border: 1px solid var(--line); }
.alt h3 { margin: 0 0 3px; font-size: 11px; font-weight: 800; letter-spacing: .08em; text-transform: uppercase; color: var(--muted); }
.alt p { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; unicode-bidi: plaintext; }
.meta { display: grid; grid-template-columns: auto 1fr; gap: 6px 14px; margin: 0; font-size: 13.5px; }
.meta dt { color: var(--muted); }
.meta dd { margin: 0; overflow-wrap: anywhere; font-variant-numeric: tabular-nums; }
.links { display: flex; flex-wrap: wrap; gap: 8px; margin: auto 0 0; }
.link { display: inline-flex; align-items: center; gap: 6px; height: 36px; padding: 0 14px; border-radius: 999px; text-decoration: none;
  font-weight: 650; font-size: 13.5px; background: var(--accent); color: var(--accent-fg); }
.link.quiet { background: var(--panel-2); color: var(--fg); }
.link svg { width: 14px; height: 14px; }
.pos { color: var(--muted); font-size: 12.5px; text-align: center; font-variant-numeric: tabular-nums; }
.fatal { color: var(--fg); }

@media (max-width: 760px) {
  .top { position: static; }
  .bar { padding: 12px 12px 8px; }
  .filters, .search, .search input { width: 100%; }
  .types { flex: 1 1 100%; justify-content: space-between; overflow-x: auto; }
  .types label { padding: 4px 8px; font-size: 12.5px; }
  .types .n { display: none; }
  .dates { flex: 1 1 0; min-width: 0; }
  .dates label { flex: 1 1 0; min-width: 0; font-size: 12.5px; }
  .dates input { flex: 1 1 0; min-width: 0; padding: 0 4px; font-size: 13px; }
  .clear { padding: 0 12px; }
  .status { padding: 0 12px 6px; }
  main { padding: 10px 12px 32px; }
  .tile { border-radius: 8px; }
  .detail { width: 100vw; height: 100dvh; border-radius: 0; }
  .detail[open] { grid-template-columns: 1fr; grid-template-rows: minmax(0, 56vh) minmax(0, 1fr); }
  .info { border-left: 0; border-top: 1px solid var(--line); }
}
@media (prefers-reduced-motion: reduce) {
  *, *::before, *::after { transition: none !important; }
}
`;
