// The SMS editor on the template page. As the marketer types it shows the encoding,
// segments, characters and units left, computed right here with the same rules as
// apps/library/encoding.py (a port, table for table; tests/library/test_editor_js.py feeds
// both the same generated messages and compares). It marks the characters that force
// UCS-2 and offers "Replace with GSM equivalents" only when that saves a segment or
// brings the message back to GSM-7. The worst case (every placeholder at its longest,
// tracked links at their real length), placeholder errors and the compliance lint Submit
// runs (brand, opt-out, promotion, shorteners...) come from the preview API, debounced; an
// answer that arrives after a newer question was asked is ignored.
//
// "Characters" are what a person reads ("€" is 1); "units" are what the segment limits
// count: GSM-7 septets ("€" costs 2) or UCS-2 code units.
//
// In node, `require()` returns the pure functions; in the browser they are `window.CueSms`.
"use strict";

(function (root, factory) {
  const api = factory();
  if (typeof module === "object" && module.exports) {
    module.exports = api;
  } else {
    root.CueSms = api;
    if (typeof document !== "undefined") {
      document.addEventListener("DOMContentLoaded", () => api.editorsSetUp(document));
    }
  }
})(typeof self !== "undefined" ? self : this, function () {
  // --- GSM 03.38 ---------------------------------------------------------------------

  const GSM_BASIC_CHARACTERS =
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ" +
    " !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§" +
    "¿abcdefghijklmnopqrstuvwxyzäöñüà";
  const GSM_EXTENSION_CHARACTERS = "\f^{}\\[~]|€";
  const BASIC = new Set(GSM_BASIC_CHARACTERS);
  const EXTENSION = new Set(GSM_EXTENSION_CHARACTERS);

  const GSM_7_LIMITS = { single: 160, concatenated: 153 };
  const UCS_2_LIMITS = { single: 70, concatenated: 67 };

  function isGsmCharacter(char) {
    return BASIC.has(char) || EXTENSION.has(char);
  }

  function isGsmEncodable(body) {
    for (const char of body) {
      if (!isGsmCharacter(char)) return false;
    }
    return true;
  }

  function gsmSeptets(char) {
    return EXTENSION.has(char) ? 2 : 1;
  }

  function utf16Units(text) {
    return text.length; // JavaScript strings are UTF-16 already
  }

  // --- planning ----------------------------------------------------------------------

  function pack(atoms, cost, limits) {
    const costs = atoms.map(cost);
    const total = costs.reduce((sum, units) => sum + units, 0);
    if (total <= limits.single) {
      return { segments: [atoms.join("")], fills: [total], capacity: limits.single };
    }
    const segments = [[]];
    const fills = [0];
    atoms.forEach((atom, index) => {
      if (fills[fills.length - 1] + costs[index] > limits.concatenated) {
        segments.push([]);
        fills.push(0);
      }
      segments[segments.length - 1].push(atom);
      fills[fills.length - 1] += costs[index];
    });
    return {
      segments: segments.map((parts) => parts.join("")),
      fills: fills,
      capacity: limits.concatenated,
    };
  }

  function planGsm7(body) {
    // Every GSM character is its own user-perceived character, so characters are atoms.
    const atoms = Array.from(body);
    return {
      encoding: "GSM-7",
      packing: pack(atoms, gsmSeptets, GSM_7_LIMITS),
      characters: atoms.length,
      nonGsmCharacters: [],
    };
  }

  function planUcs2(body) {
    const clusters = userPerceivedCharacters(body);
    const atoms = [];
    for (const cluster of clusters) {
      // A cluster no segment can hold is cut between code points (never inside a pair).
      if (utf16Units(cluster) > UCS_2_LIMITS.concatenated) atoms.push(...Array.from(cluster));
      else atoms.push(cluster);
    }
    const nonGsm = [];
    for (const cluster of clusters) {
      if (!isGsmCharacter(cluster) && !nonGsm.includes(cluster)) nonGsm.push(cluster);
    }
    return {
      encoding: "UCS-2",
      packing: pack(atoms, utf16Units, UCS_2_LIMITS),
      characters: clusters.length,
      nonGsmCharacters: nonGsm,
    };
  }

  function plan(body) {
    return isGsmEncodable(body) ? planGsm7(body) : planUcs2(body);
  }

  function smsAnalyze(body) {
    const planned = plan(body);
    const fills = planned.packing.fills;
    return {
      encoding: planned.encoding,
      segments: fills.length,
      characters: planned.characters,
      unitsUsed: fills.reduce((sum, units) => sum + units, 0),
      unitsPerSegment: planned.packing.capacity,
      nonGsmCharacters: planned.nonGsmCharacters,
      unitsRemaining: planned.packing.capacity - fills[fills.length - 1],
    };
  }

  function smsSegments(body) {
    return plan(body).packing.segments;
  }

  // --- replacements ------------------------------------------------------------------

  const GSM_REPLACEMENTS = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u02bc": "'", "\u00b4": "'", "`": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
    "\u2015": "-", "\u2212": "-", "\u2022": "-", "\u2023": "-", "\u2043": "-",
    "\u2219": "-", "\u25e6": "-",
    "\u2026": "...",
    "\u00a0": " ", "\u2002": " ", "\u2003": " ", "\u2007": " ", "\u2009": " ",
    "\u200a": " ", "\u202f": " ", "\t": " ",
    "\u2028": "\n", "\u2029": "\n",
    "\u200b": "", "\u2060": "", "\ufeff": "", "\u00ad": "",
  };
  const REPLACEMENTS = new Map(Object.entries(GSM_REPLACEMENTS));

  function gsmReplacements(body) {
    const found = {};
    for (const char of body) {
      if (REPLACEMENTS.has(char) && !(char in found)) found[char] = REPLACEMENTS.get(char);
    }
    return found;
  }

  function gsmNormalize(body) {
    return Array.from(body, (char) => (REPLACEMENTS.has(char) ? REPLACEMENTS.get(char) : char)).join("");
  }

  function replacementHelps(body) {
    const before = smsAnalyze(body);
    const after = smsAnalyze(gsmNormalize(body));
    if (after.segments !== before.segments) return after.segments < before.segments;
    return after.encoding !== before.encoding;
  }

  // --- user-perceived characters (UAX #29 extended grapheme clusters) ----------------
  // The rules and tables of encoding.py. Intl.Segmenter is not used on purpose: it joins
  // CR LF and applies GB9c, which Twilio's calculator (and so encoding.py) does not.

  const B = {
    CR: "CR", LF: "LF", CONTROL: "Control", EXTEND: "Extend", ZWJ: "ZWJ",
    REGIONAL_INDICATOR: "RI", PREPEND: "Prepend", SPACING_MARK: "SpacingMark",
    L: "L", V: "V", T: "T", LV: "LV", LVT: "LVT", OTHER: "Other",
  };
  const CONTROLS = new Set([B.CR, B.LF, B.CONTROL]);

  function codePointRanges(table) {
    return table
      .trim()
      .split(/\s+/)
      .map((item) => {
        const [first, last] = item.split("-");
        return [parseInt(first, 16), parseInt(last || first, 16)];
      })
      .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  }

  const PREPEND_RANGES = codePointRanges(`
    0600-0605 06DD 070F 0890-0891 08E2 0D4E 110BD 110CD 111C2-111C3 1193F 11941 11A3A
    11A84-11A89 11D46 11F02`);
  const OTHER_EXTEND_RANGES = codePointRanges(`
    09BE 09D7 0B3E 0B57 0BBE 0BD7 0CC2 0CD5-0CD6 0D3E 0D57 0DCF 0DDF 1B35 302E-302F
    FF9E-FF9F 1133E 11357 114B0 114BD 115AF 11930 1D165 1D16E-1D172 1F3FB-1F3FF
    E0020-E007F`);
  const NOT_SPACING_MARK_RANGES = codePointRanges(`
    102B-102C 1038 1062-1064 1067-106D 1083 1087-108C 108F 109A-109C 1A61 1A63-1A64
    AA7B AA7D 11720-11721`);
  const EXTENDED_PICTOGRAPHIC_RANGES = codePointRanges(`
    00A9 00AE 203C 2049 2122 2139 2194-2199 21A9-21AA 231A-231B 2328 23CF 23E9-23F3
    23F8-23FA 24C2 25AA-25AB 25B6 25C0 25FB-25FE 2600-2604 260E 2611 2614-2615 2618 261D
    2620 2622-2623 2626 262A 262E-262F 2638-263A 2640 2642 2648-2653 265F-2660 2663
    2665-2666 2668 267B 267E-267F 2692-2697 2699 269B-269C 26A0-26A1 26A7 26AA-26AB
    26B0-26B1 26BD-26BE 26C4-26C5 26C8 26CE-26CF 26D1 26D3-26D4 26E9-26EA 26F0-26F5
    26F7-26FA 26FD 2702 2705 2708-270D 270F 2712 2714 2716 271D 2721 2728 2733-2734 2744
    2747 274C 274E 2753-2755 2757 2763-2764 2795-2797 27A1 27B0 27BF 2934-2935 2B05-2B07
    2B1B-2B1C 2B50 2B55 3030 303D 3297 3299 1F004 1F02C-1F02F 1F094-1F09F 1F0AF-1F0B0
    1F0C0 1F0CF-1F0D0 1F0F6-1F0FF 1F170-1F171 1F17E-1F17F 1F18E 1F191-1F19A 1F1AE-1F1E5
    1F201-1F20F 1F21A 1F22F 1F232-1F23A 1F23C-1F23F 1F249-1F25F 1F266-1F321 1F324-1F393
    1F396-1F397 1F399-1F39B 1F39E-1F3F0 1F3F3-1F3F5 1F3F7-1F3FA 1F400-1F4FD 1F4FF-1F53D
    1F549-1F54E 1F550-1F567 1F56F-1F570 1F573-1F57A 1F587 1F58A-1F58D 1F590 1F595-1F596
    1F5A4-1F5A5 1F5A8 1F5B1-1F5B2 1F5BC 1F5C2-1F5C4 1F5D1-1F5D3 1F5DC-1F5DE 1F5E1 1F5E3
    1F5E8 1F5EF 1F5F3 1F5FA-1F64F 1F680-1F6C5 1F6CB-1F6D2 1F6D5-1F6E5 1F6E9 1F6EB-1F6F0
    1F6F3-1F6FF 1F7DA-1F7FF 1F80C-1F80F 1F848-1F84F 1F85A-1F85F 1F888-1F88F 1F8AE-1F8AF
    1F8BC-1F8BF 1F8C2-1F8CF 1F8D9-1F8FF 1F90C-1F93A 1F93C-1F945 1F947-1F9FF 1FA58-1FA5F
    1FA6E-1FAFF 1FC00-1FFFD`);

  function inRanges(codePoint, ranges) {
    let low = 0;
    let high = ranges.length - 1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      if (codePoint < ranges[middle][0]) high = middle - 1;
      else if (codePoint > ranges[middle][1]) low = middle + 1;
      else return true;
    }
    return false;
  }

  const SPECIAL_BREAKS = new Map([
    [0x000d, B.CR],
    [0x000a, B.LF],
    [0x200c, B.EXTEND],
    [0x200d, B.ZWJ],
    [0x0e33, B.SPACING_MARK],
    [0x0eb3, B.SPACING_MARK],
  ]);

  // General categories, as Python's unicodedata reports them for assigned characters.
  const CONTROL_CATEGORY = /^[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]$/u;
  const EXTEND_CATEGORY = /^[\p{Mn}\p{Me}]$/u;
  const SPACING_CATEGORY = /^\p{Mc}$/u;

  function hangulBreak(cp) {
    if (cp >= 0xac00 && cp <= 0xd7a3) return (cp - 0xac00) % 28 === 0 ? B.LV : B.LVT;
    if ((cp >= 0x1100 && cp <= 0x115f) || (cp >= 0xa960 && cp <= 0xa97c)) return B.L;
    if ((cp >= 0x1160 && cp <= 0x11a7) || (cp >= 0xd7b0 && cp <= 0xd7c6)) return B.V;
    if ((cp >= 0x11a8 && cp <= 0x11ff) || (cp >= 0xd7cb && cp <= 0xd7fb)) return B.T;
    return null;
  }

  function breakProperty(char) {
    const cp = char.codePointAt(0);
    if (SPECIAL_BREAKS.has(cp)) return SPECIAL_BREAKS.get(cp);
    if (cp >= 0x1f1e6 && cp <= 0x1f1ff) return B.REGIONAL_INDICATOR;
    if (inRanges(cp, PREPEND_RANGES)) return B.PREPEND;
    if (inRanges(cp, OTHER_EXTEND_RANGES)) return B.EXTEND;
    const hangul = hangulBreak(cp);
    if (hangul !== null) return hangul;
    if (CONTROL_CATEGORY.test(char)) return B.CONTROL;
    if (EXTEND_CATEGORY.test(char)) return B.EXTEND;
    if (SPACING_CATEGORY.test(char) && !inRanges(cp, NOT_SPACING_MARK_RANGES)) {
      return B.SPACING_MARK;
    }
    return B.OTHER;
  }

  function isExtendedPictographic(cp) {
    return cp >= 0xa9 && inRanges(cp, EXTENDED_PICTOGRAPHIC_RANGES);
  }

  const classCache = new Map();

  function characterClass(char) {
    let found = classCache.get(char);
    if (found === undefined) {
      found = [breakProperty(char), isExtendedPictographic(char.codePointAt(0))];
      if (classCache.size < 4096) classCache.set(char, found);
    }
    return found;
  }

  function joinsHangul(previous, current) {
    if (previous === B.L) return [B.L, B.V, B.LV, B.LVT].includes(current);
    if (previous === B.LV || previous === B.V) return current === B.V || current === B.T;
    if (previous === B.LVT || previous === B.T) return current === B.T;
    return false;
  }

  function isBoundary(previous, current, pictographic, regionalRun, joinsPictographic) {
    if (CONTROLS.has(previous) || CONTROLS.has(current)) return true; // GB4, GB5, no GB3
    if (joinsHangul(previous, current)) return false; // GB6-GB8
    if (current === B.EXTEND || current === B.ZWJ || current === B.SPACING_MARK) return false;
    if (previous === B.PREPEND) return false; // GB9b
    if (pictographic && joinsPictographic) return false; // GB11
    const bothRegional = previous === B.REGIONAL_INDICATOR && current === B.REGIONAL_INDICATOR;
    return !(bothRegional && regionalRun % 2 === 1); // GB12, GB13
  }

  function userPerceivedCharacters(text) {
    const chars = Array.from(text);
    const clusters = [];
    let start = 0;
    let previous = B.CONTROL;
    let regionalRun = 0;
    let pictographicTail = false;
    let joinsPictographic = false;
    chars.forEach((char, index) => {
      const [current, pictographic] = characterClass(char);
      if (
        index &&
        ((previous === B.OTHER && current === B.OTHER) ||
          isBoundary(previous, current, pictographic, regionalRun, joinsPictographic))
      ) {
        clusters.push(chars.slice(start, index).join(""));
        start = index;
      }
      joinsPictographic = current === B.ZWJ && pictographicTail;
      pictographicTail = pictographic || (current === B.EXTEND && pictographicTail);
      regionalRun = current === B.REGIONAL_INDICATOR ? regionalRun + 1 : 0;
      previous = current;
    });
    if (chars.length) clusters.push(chars.slice(start).join(""));
    return clusters;
  }

  // --- the editor (browser only) -------------------------------------------------------

  const DELAY_MS = 400;

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function plural(count, word) {
    return count + " " + word + (count === 1 ? "" : "s");
  }

  function codePointLabel(char) {
    return Array.from(char, (c) => "U+" + c.codePointAt(0).toString(16).toUpperCase().padStart(4, "0")).join(" ");
  }

  function csrfToken(form) {
    const input = form && form.querySelector("input[name=csrfmiddlewaretoken]");
    if (input) return input.value;
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function jsonField(form, name) {
    const field = form && form.querySelector("[name=" + name + "]");
    if (!field || !field.value.trim()) return {};
    try {
      const value = JSON.parse(field.value);
      return value && typeof value === "object" && !Array.isArray(value) ? value : {};
    } catch (error) {
      return {};
    }
  }

  function meterBuild() {
    const meter = element("div", "cue-sms-meter");
    meter.setAttribute("aria-live", "polite");
    const figures = element("div", "cue-sms-figures");
    const parts = {
      encoding: element("span", "cue-encoding"),
      segments: element("span", "cue-segments"),
      characters: element("span", "cue-characters"),
      units: element("span", "cue-units"),
      remaining: element("span", "cue-remaining"),
    };
    Object.values(parts).forEach((part) => figures.appendChild(part));
    parts.replace = element("button", "cue-replace button", "Replace with GSM equivalents");
    parts.replace.type = "button";
    parts.replace.hidden = true;
    figures.appendChild(parts.replace);
    meter.appendChild(figures);
    parts.nonGsm = element("div", "cue-non-gsm");
    parts.highlight = element("div", "cue-highlight");
    parts.worst = element("div", "cue-worst-case");
    parts.errors = element("ul", "cue-errors errorlist");
    [parts.nonGsm, parts.highlight, parts.worst, parts.errors].forEach((part) => {
      part.hidden = true;
      meter.appendChild(part);
    });
    return { meter: meter, parts: parts };
  }

  function highlightRender(container, body, nonGsm) {
    const marked = new Set(nonGsm);
    const nodes = [];
    for (const cluster of userPerceivedCharacters(body)) {
      if (marked.has(cluster)) {
        const mark = element("mark", "cue-ucs2", cluster);
        mark.title = codePointLabel(cluster) + " forces UCS-2";
        nodes.push(mark);
      } else {
        nodes.push(document.createTextNode(cluster));
      }
    }
    container.replaceChildren(...nodes);
  }

  function meterUpdate(parts, body) {
    const analysis = smsAnalyze(body);
    parts.encoding.textContent = analysis.encoding;
    parts.encoding.dataset.encoding = analysis.encoding;
    parts.segments.textContent = plural(analysis.segments, "segment");
    parts.characters.textContent = plural(analysis.characters, "character");
    parts.units.textContent = plural(analysis.unitsUsed, analysis.encoding + " unit");
    parts.units.title = UNITS_HELP[analysis.encoding];
    parts.remaining.textContent = plural(analysis.unitsRemaining, "unit") + " left in this segment";
    const replacements = gsmReplacements(body);
    const nonGsm = analysis.nonGsmCharacters;
    parts.nonGsm.hidden = nonGsm.length === 0;
    parts.nonGsm.replaceChildren(
      document.createTextNode("These force UCS-2 (70 characters a segment instead of 160): "),
      ...nonGsm.map((char) => {
        const chip = element("mark", "cue-ucs2", char);
        chip.title = codePointLabel(char) + (char in replacements ? " → " + JSON.stringify(replacements[char]) : "");
        return chip;
      })
    );
    parts.highlight.hidden = nonGsm.length === 0;
    if (nonGsm.length) highlightRender(parts.highlight, body, nonGsm);
    parts.replace.hidden = !replacementHelps(body);
  }

  const UNITS_HELP = {
    "GSM-7":
      "GSM-7 units are septets: a segment holds 160, or 153 once the message is split. " +
      "€ [ ] { } ~ ^ \\ | each cost 2 units.",
    "UCS-2":
      "UCS-2 units are UTF-16 code units: a segment holds 70, or 67 once the message is " +
      "split. Many emoji cost 2 or more units.",
  };

  function worstCaseShow(parts, data) {
    const worst = data.worst_case;
    parts.worst.hidden = false;
    parts.worst.textContent =
      "At its longest (every placeholder at full length, links as sent): " +
      plural(worst.segments, "segment") + ", " + worst.encoding + ", " +
      plural(worst.characters, "character") + " (" +
      plural(worst.units_used, worst.encoding + " unit") + ").";
    // With the lint on, placeholder errors are among its findings: shown once, there.
    const errors = data.lint === null ? data.errors : [];
    parts.errors.replaceChildren(...errors.map((text) => element("li", "", text)));
    parts.errors.hidden = errors.length === 0;
  }

  // --- the live lint ---------------------------------------------------------------------

  function lintBuild() {
    const panel = element("div", "cue-lint");
    panel.setAttribute("aria-live", "polite");
    panel.dataset.staleAnswers = "0";
    const status = element("p", "cue-lint-status", "Checking what Submit checks…");
    const list = element("ul", "cue-lint-findings");
    panel.append(status, list);
    return { panel: panel, status: status, list: list };
  }

  function lintSummary(findings) {
    const errors = findings.filter((finding) => finding.level === "error").length;
    const warnings = findings.length - errors;
    if (findings.some((finding) => finding.rule === "placeholders")) {
      return "Submit would refuse it: fix the placeholders first, then the rest is checked.";
    }
    if (errors) {
      const blocks = plural(errors, "problem") + " Submit would refuse";
      return warnings ? blocks + ", and " + plural(warnings, "warning") + "." : blocks + ".";
    }
    if (warnings) return "Nothing blocks Submit; " + plural(warnings, "warning") + " for the reviewer.";
    return "Nothing to fix: Submit's compliance lint passes.";
  }

  function lintShow(lint, findings) {
    lint.panel.setAttribute("aria-busy", "false");
    if (findings === null) {
      lint.status.textContent = "Choose a category to see what Submit checks.";
      lint.list.replaceChildren();
      return;
    }
    lint.status.textContent = lintSummary(findings);
    lint.list.replaceChildren(
      ...findings.map((finding) => {
        const item = element("li", "cue-" + finding.level, finding.message);
        item.dataset.rule = finding.rule;
        return item;
      })
    );
  }

  function lintFailed(lint) {
    lint.panel.setAttribute("aria-busy", "false");
    lint.status.textContent = "The text could not be checked just now; Submit still checks it.";
    lint.list.replaceChildren();
  }

  function channelOf(form, config) {
    const select = form && form.querySelector("select[name=channel]");
    return select ? select.value : config.channel || "sms";
  }

  // Fixed once the template exists (the page shows it read-only), chosen on the add page.
  function categoryOf(form, config) {
    const select = form && form.querySelector("select[name=category]");
    const value = select ? select.value : config.category;
    return value || null;
  }

  function previewQuestion(form, config, textarea) {
    const subject = form && form.querySelector("[name=subject]");
    const html = form && form.querySelector("[name=html]");
    const question = {
      body: textarea.value,
      html: html && channelOf(form, config) === "email" ? html.value : "",
      links: jsonField(form, "links"),
      defaults: jsonField(form, "defaults"),
      channel: channelOf(form, config),
      subject: subject ? subject.value : "",
    };
    const category = categoryOf(form, config);
    if (category) question.category = category;
    return question;
  }

  function editorSetUp(textarea, config) {
    const form = textarea.form;
    const { meter, parts } = meterBuild();
    const lint = lintBuild();
    // In the admin's aligned forms the textarea sits in a flex row with its label.
    (textarea.closest(".flex-container") || textarea).insertAdjacentElement("afterend", meter);
    meter.insertAdjacentElement("afterend", lint.panel);
    let timer = null;
    let latest = 0;

    async function previewRefresh() {
      const request = ++latest;
      let data = null;
      try {
        const response = await fetch(config.preview_url, {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(form) },
          body: JSON.stringify(previewQuestion(form, config, textarea)),
        });
        data = response.ok ? await response.json() : null;
      } catch (error) {
        data = null;
      }
      if (request !== latest) {
        // A newer question is out (or answered): this answer describes older text.
        lint.panel.dataset.staleAnswers = String(Number(lint.panel.dataset.staleAnswers) + 1);
        return;
      }
      if (data === null) return lintFailed(lint);
      if (channelOf(form, config) === "sms") worstCaseShow(parts, data);
      lintShow(lint, data.lint);
      // The email preview (email_preview.js) draws the same answer at two widths.
      if (form) form.dispatchEvent(new CustomEvent("cue:preview", { detail: data }));
    }

    function refresh() {
      const sms = channelOf(form, config) === "sms";
      meter.hidden = !sms;
      if (sms) meterUpdate(parts, textarea.value);
      lint.panel.setAttribute("aria-busy", "true");
      clearTimeout(timer);
      timer = setTimeout(previewRefresh, DELAY_MS);
    }

    parts.replace.addEventListener("click", () => {
      textarea.value = gsmNormalize(textarea.value);
      textarea.dispatchEvent(new Event("input", { bubbles: true }));
      textarea.focus();
    });
    textarea.addEventListener("input", refresh);
    ["links", "defaults", "channel", "category"].forEach((name) => {
      const field = form && form.querySelector("[name=" + name + "]");
      if (field) field.addEventListener("change", refresh);
    });
    ["subject", "html"].forEach((name) => {
      const field = form && form.querySelector("[name=" + name + "]");
      if (field) field.addEventListener("input", refresh);
    });
    refresh();
  }

  function editorsSetUp(doc) {
    const script = doc.getElementById("cue-editor-config");
    if (!script) return;
    const config = JSON.parse(script.textContent);
    doc.querySelectorAll("textarea.cue-template-body").forEach((textarea) => {
      if (!textarea.disabled) editorSetUp(textarea, config);
    });
  }

  return {
    GSM_BASIC_CHARACTERS,
    GSM_EXTENSION_CHARACTERS,
    GSM_REPLACEMENTS,
    RANGES: {
      prepend: PREPEND_RANGES,
      otherExtend: OTHER_EXTEND_RANGES,
      notSpacingMark: NOT_SPACING_MARK_RANGES,
      extendedPictographic: EXTENDED_PICTOGRAPHIC_RANGES,
    },
    smsAnalyze,
    smsSegments,
    gsmReplacements,
    gsmNormalize,
    replacementHelps,
    isGsmEncodable,
    userPerceivedCharacters,
    editorsSetUp,
  };
});
