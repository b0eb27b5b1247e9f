// Markdown to safe HTML: marked passes raw HTML through, so everything is sanitized.
import { marked } from "marked";
import DOMPurify from "dompurify";

/**
 * Texts rendered lately, most recent last. A spec reloads after every change to it and
 * re-renders every comment; parsing and sanitizing each again kept the UI's thread busy long
 * enough to delay the answer to the next action (the reply bench's p95). Bounded by entries.
 */
const rendered = new Map<string, string>();
/** How many rendered texts are kept. */
export const MARKDOWN_KEPT = 2000;

/** Renders markdown to sanitized HTML (no scripts, no event handlers, no remote frames). */
export function renderMarkdown(text: string): string {
  const known = rendered.get(text);
  if (known !== undefined) {
    rendered.delete(text);
    rendered.set(text, known);
    return known;
  }
  const html = marked.parse(text, { async: false, gfm: true, breaks: false });
  const safe = DOMPurify.sanitize(html, {
    USE_PROFILES: { html: true },
    FORBID_TAGS: ["style", "iframe", "form", "input", "object", "embed"],
    FORBID_ATTR: ["style"],
  });
  rendered.set(text, safe);
  for (const oldest of rendered.keys()) {
    if (rendered.size <= MARKDOWN_KEPT) break;
    rendered.delete(oldest);
  }
  return safe;
}
