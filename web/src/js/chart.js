// Charts drawn by the page itself: SVG built node by node (no library, nothing from another host,
// no inline style: colours come from classes in console.css, so the strict CSP holds). Every chart
// has a text alternative: an accessible name that says what it shows, and a table with the numbers.

import { h } from "./dom.js";

const SVG = "http://www.w3.org/2000/svg"; // a namespace name, not something fetched
const SERIES = 8; // colour classes series-0 .. series-7 in console.css

function svg(tag, attrs = {}, ...children) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value !== undefined && value !== null) element.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child) element.append(child);
  }
  return element;
}

function title(text) {
  const t = svg("title");
  t.textContent = text; // a tooltip for mouse users; the table is the text alternative
  return t;
}

/** Each key's colour class, in a stable order (sorted keys), so a code keeps its colour. */
export function seriesClasses(keys) {
  return Object.fromEntries([...keys].sort().map((key, n) => [key, `series-${n % SERIES}`]));
}

/**
 * A stacked bar per column: columns [{label, total, parts: {key: n}}], each bar `total` high, its
 * parts sharing it in proportion. `name` is the accessible
 * name (role img); `describe(column)` the tooltip of a bar. Returns the SVG, `width` units wide:
 * drawn at the width it is shown at (`fitted`), a unit is a pixel and its text the size console.css
 * gives it.
 */
export function stackedBars(columns, { name, describe, colours, axisEvery = 7, width = 640 }) {
  const height = Math.max(180, Math.round((width * 180) / 640)); // as high as ever on a laptop, never flatter than 180
  const max = Math.max(1, ...columns.map((c) => c.total));
  const left = Math.max(28, 8 + 8 * String(max).length); // room for the top value's label, at 12px
  const right = 22; // room for the last day's label, centred under its bar
  const bottom = 22;
  const top = 8;
  const plot = height - bottom - top;
  const step = (width - left - right) / Math.max(1, columns.length);
  const bar = Math.max(2, step * 0.7);
  const y = (value) => top + plot - (value / max) * plot;

  const grid = [0, max].map((value) =>
    svg(
      "g",
      { class: "chart-axis" },
      svg("line", { x1: left, x2: width - right, y1: y(value), y2: y(value) }),
      Object.assign(svg("text", { x: left - 4, y: y(value) + 4, "text-anchor": "end" }), { textContent: String(value) }),
    ),
  );
  const bars = columns.map((column, n) => {
    const x = left + n * step + (step - bar) / 2;
    // a bar is as high as its total; its parts may add up to more (a flag has several reasons):
    // then each takes its share of the bar, and the tooltip and the table give the numbers
    const sum = Object.values(column.parts).reduce((a, b) => a + b, 0);
    const scale = sum > column.total ? column.total / sum : 1;
    let base = 0;
    const pieces = Object.keys(column.parts)
      .sort()
      .map((key) => {
        const value = column.parts[key] * scale;
        const rect = svg("rect", {
          x: x.toFixed(1),
          width: bar.toFixed(1),
          y: y(base + value).toFixed(1),
          height: (y(base) - y(base + value)).toFixed(1),
          class: colours[key] || "series-0",
        });
        base += value;
        return rect;
      });
    const label =
      n % axisEvery === (columns.length - 1) % axisEvery
        ? Object.assign(svg("text", { x: (x + bar / 2).toFixed(1), y: height - 6, "text-anchor": "middle", class: "chart-label" }), {
            textContent: column.label,
          })
        : null;
    return svg("g", { class: "chart-bar" }, title(describe(column)), pieces, label);
  });
  return svg(
    "svg",
    { viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img", "aria-label": name, focusable: "false" },
    grid,
    bars,
  );
}

/**
 * A chart drawn again at the width its box is shown at, whenever that changes: `draw(width)` gives
 * the SVG. A chart drawn once at 640 units and scaled to a phone's 350 pixels drew its 11px labels
 * 6 pixels high; drawn at its width, its text is as console.css says at any width.
 */
export function fitted(draw, width = 640) {
  const box = h("div", { class: "chart-box" }, draw(width));
  let drawn = width;
  new ResizeObserver(([entry]) => {
    const now = Math.round(entry.contentRect.width);
    if (now > 0 && now !== drawn) {
      drawn = now;
      box.replaceChildren(draw(now));
    }
  }).observe(box);
  return box;
}

/** The legend of a chart's colours: a list of swatches and names. */
export function legend(colours, nameOf) {
  return h(
    "ul",
    { class: "chart-legend" },
    Object.entries(colours).map(([key, cls]) =>
      h("li", {}, svg("svg", { viewBox: "0 0 10 10", class: "swatch", "aria-hidden": "true" }, svg("rect", { width: 10, height: 10, class: cls })), nameOf(key)),
    ),
  );
}

/**
 * A small horizontal bar beside a number (the loyalty aggregates): `value` against `max`, hidden
 * from assistive technology since the number beside it says the same.
 */
export function meter(value, max) {
  const width = 100;
  const share = max > 0 ? Math.max(0, Math.min(1, value / max)) : 0;
  return svg(
    "svg",
    { viewBox: `0 0 ${width} 8`, class: "meter", "aria-hidden": "true", focusable: "false", preserveAspectRatio: "none" },
    svg("rect", { width, height: 8, class: "meter-track" }),
    svg("rect", { width: (share * width).toFixed(1), height: 8, class: "meter-fill" }),
  );
}
