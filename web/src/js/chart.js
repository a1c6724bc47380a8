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
 * name (role img); `describe(column)` the tooltip of a bar. Returns the SVG.
 */
export function stackedBars(columns, { name, describe, colours, axisEvery = 7 }) {
  const width = 640;
  const height = 180;
  const left = 28;
  const right = 22; // room for the last day's label, centred under its bar
  const bottom = 22;
  const top = 8;
  const plot = height - bottom - top;
  const max = Math.max(1, ...columns.map((c) => c.total));
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
