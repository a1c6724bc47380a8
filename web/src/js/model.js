// Reading the API's answers: list pages with their cursor, and the first of several field names
// where a document may name a value in more than one way (a case's subject name, say).

/** The first value that is neither undefined nor null, looked up in each object by each name. */
export function pick(objects, ...names) {
  for (const object of Array.isArray(objects) ? objects : [objects]) {
    if (!object || typeof object !== "object") continue;
    for (const name of names) {
      if (object[name] !== undefined && object[name] !== null) return object[name];
    }
  }
  return undefined;
}

/** The items of a list answer: a bare array, or an object with its items under a known name. */
export function itemsOf(answer, ...names) {
  if (Array.isArray(answer)) return answer;
  const found = pick(answer, ...names, "items", "results", "data");
  return Array.isArray(found) ? found : [];
}

export function nextCursorOf(answer) {
  if (!answer || Array.isArray(answer)) return null;
  return pick(answer, "next_cursor", "cursor", "next") || null;
}

export function subjectName(item) {
  const subject = item.subject || {};
  return pick([subject, item], "name", "partner_name") || pick([subject, item], "id", "partner_id") || "(unnamed)";
}
