// WCAG 2.1 AA smoke checks run inside the page (page.evaluate); returns a list of problems.
// Not a full audit: it catches the mistakes templates tend to make.
() => {
  const problems = [];
  const describe = (el) => {
    let text = el.tagName.toLowerCase();
    if (el.id) text += "#" + el.id;
    if (el.name) text += `[name=${el.name}]`;
    const words = (el.innerText || el.value || "").trim().replace(/\s+/g, " ").slice(0, 40);
    return words ? `${text} "${words}"` : text;
  };
  const isShown = (el) => {
    const style = getComputedStyle(el);
    if (style.visibility === "hidden" || style.display === "none") return false;
    const box = el.getBoundingClientRect();
    return box.width > 1 && box.height > 1;
  };
  const textOf = (ids) => ids.split(/\s+/).map((id) => document.getElementById(id))
    .filter(Boolean).map((el) => el.textContent.trim()).join(" ").trim();

  // Language, title, landmarks, headings.
  if (!document.documentElement.getAttribute("lang")) problems.push("<html> has no lang attribute");
  if (!document.title.trim()) problems.push("the page has no <title>");
  const mains = document.querySelectorAll("main, [role=main]");
  if (mains.length !== 1) problems.push(`expected one <main> landmark, found ${mains.length}`);
  const h1s = document.querySelectorAll("h1");
  if (h1s.length !== 1) problems.push(`expected exactly one h1, found ${h1s.length}`);
  if (!document.querySelector("nav, [role=navigation]")) problems.push("no navigation landmark");
  const navs = document.querySelectorAll("nav, [role=navigation]");
  if (navs.length > 1) {
    navs.forEach((nav) => {
      if (!nav.getAttribute("aria-label") && !nav.getAttribute("aria-labelledby"))
        problems.push("several navigation landmarks, but one has no aria-label: " + describe(nav));
    });
  }
  // Heading levels never skip on the way down (h1 → h3 with no h2).
  let previous = 0;
  document.querySelectorAll("h1, h2, h3, h4, h5, h6").forEach((h) => {
    const level = Number(h.tagName[1]);
    if (previous && level > previous + 1) problems.push(`heading level skips from h${previous} to ${describe(h)}`);
    previous = level;
  });

  // Unique ids (labels and aria references depend on them).
  const seen = new Set();
  document.querySelectorAll("[id]").forEach((el) => {
    if (seen.has(el.id)) problems.push(`duplicate id "${el.id}"`);
    seen.add(el.id);
  });

  // Every form control has an accessible name.
  document.querySelectorAll("input, select, textarea").forEach((el) => {
    const type = (el.getAttribute("type") || "").toLowerCase();
    if (["hidden", "submit", "button", "reset", "image"].includes(type)) return;
    if (!isShown(el)) return;
    const byFor = el.id && [...document.querySelectorAll("label")].some(
      (label) => label.htmlFor === el.id && label.textContent.trim());
    const wrapped = el.closest("label") && el.closest("label").textContent.trim();
    const aria = (el.getAttribute("aria-label") || "").trim();
    const labelledBy = el.getAttribute("aria-labelledby") && textOf(el.getAttribute("aria-labelledby"));
    if (!(byFor || wrapped || aria || labelledBy)) problems.push("form control without a label: " + describe(el));
  });

  // Images have alt text (empty alt marks decoration); links and buttons have names.
  document.querySelectorAll("img").forEach((img) => {
    if (!img.hasAttribute("alt")) problems.push("image without alt: " + (img.getAttribute("src") || ""));
  });
  document.querySelectorAll("a[href], button").forEach((el) => {
    const name = (el.textContent || "").trim() || el.getAttribute("aria-label") ||
      (el.getAttribute("aria-labelledby") && textOf(el.getAttribute("aria-labelledby"))) ||
      [...el.querySelectorAll("img[alt]")].map((img) => img.alt).join("").trim();
    if (!name) problems.push("link or button without a name: " + el.outerHTML.slice(0, 80));
  });

  // Text contrast: 4.5:1, or 3:1 for large text (24px, or 18.66px bold).
  const parse = (colour) => {
    const m = colour.match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const parts = m[1].split(/[,\s/]+/).filter(Boolean).map(Number);
    return { r: parts[0], g: parts[1], b: parts[2], a: parts.length > 3 ? parts[3] : 1 };
  };
  const over = (top, bottom) => ({
    r: top.r * top.a + bottom.r * (1 - top.a),
    g: top.g * top.a + bottom.g * (1 - top.a),
    b: top.b * top.a + bottom.b * (1 - top.a),
    a: 1,
  });
  const background = (el) => {
    // Composite the backgrounds from the page down to the element; null if an image is in the way.
    const layers = [];
    for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
      const style = getComputedStyle(node);
      if (style.backgroundImage && style.backgroundImage !== "none" && node !== el) return null;
      const colour = parse(style.backgroundColor);
      if (colour && colour.a > 0) layers.push(colour);
      if (colour && colour.a === 1) break;
    }
    let result = { r: 255, g: 255, b: 255, a: 1 };
    for (const layer of layers.reverse()) result = over(layer, result);
    return result;
  };
  const luminance = ({ r, g, b }) => {
    const channel = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  };
  const ratio = (a, b) => {
    const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };
  const reported = new Set();
  document.querySelectorAll("body *").forEach((el) => {
    const ownText = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!ownText || !isShown(el) || el.closest("[disabled], [aria-hidden=true]")) return;
    const style = getComputedStyle(el);
    if (style.clip === "rect(0px, 0px, 0px, 0px)" || style.clipPath === "inset(50%)") return;
    const bg = background(el);
    const fg = parse(style.color);
    if (!bg || !fg) return;
    const value = ratio(over(fg, bg), bg);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    const needed = large ? 3 : 4.5;
    if (value < needed - 0.005) {
      const key = `${style.color} on ${JSON.stringify(bg)}`;
      if (reported.has(key + describe(el))) return;
      reported.add(key + describe(el));
      problems.push(`contrast ${value.toFixed(2)}:1 (needs ${needed}:1) for ${describe(el)}: ${style.color}`);
    }
  });
  return problems;
}
