// Reading and writing the search language, just enough for chips and filters: the service
// parses the query itself and reports mistakes with their position.

/** Quote a value when it needs it (spaces, quotes, backslashes, or empty). */
export function quote(value) {
  if (value !== "" && !/[\s"\\]/.test(value)) return value;
  return `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/**
 * Split a query into its terms as written (`tag:cats`, `-tag:"big dogs"`, `"a phrase"`).
 * @param {string} text
 * @returns {string[]}
 */
export function terms(text) {
  const found = [];
  let current = "";
  let inQuotes = false;
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i];
    if (inQuotes && char === "\\" && i + 1 < text.length) {
      current += char + text[i + 1];
      i += 1;
    } else if (char === '"') {
      inQuotes = !inQuotes;
      current += char;
    } else if (/\s/.test(char) && !inQuotes) {
      if (current) found.push(current);
      current = "";
    } else {
      current += char;
    }
  }
  if (current) found.push(current);
  return found;
}

function unquote(value) {
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    return value.slice(1, -1).replace(/\\(["\\])/g, "$1");
  }
  return value;
}

/** The key and value of a term (`{negated, key, value}`), or key "" for free text. */
export function parseTerm(term) {
  const negated = term.startsWith("-") && term.length > 1;
  const body = negated ? term.slice(1) : term;
  const match = /^([a-z]+):(.*)$/.exec(body);
  if (!match) return { negated, key: "", value: unquote(body) };
  return { negated, key: match[1], value: unquote(match[2]) };
}

/** The query with every (non-negated) `key:` term replaced by `key:value` (or removed). */
export function setKey(text, key, value) {
  const kept = terms(text).filter((term) => {
    const parsed = parseTerm(term);
    return !(parsed.key === key && !parsed.negated);
  });
  if (value) kept.push(`${key}:${quote(value)}`);
  return kept.join(" ");
}

/** The value of the first non-negated `key:` term, or "". */
export function getKey(text, key) {
  for (const term of terms(text)) {
    const parsed = parseTerm(term);
    if (parsed.key === key && !parsed.negated) return parsed.value;
  }
  return "";
}

/** The query with one more term, unless it is there already. */
export function addTerm(text, term) {
  const list = terms(text);
  if (!list.includes(term)) list.push(term);
  return list.join(" ");
}

/** The query without one term. */
export function removeTerm(text, term) {
  return terms(text)
    .filter((item) => item !== term)
    .join(" ");
}
