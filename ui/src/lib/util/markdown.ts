// Markdown to safe HTML: marked passes raw HTML through, so everything is sanitized.
import { marked } from "marked";
import DOMPurify from "dompurify";

/** Renders markdown to sanitized HTML (no scripts, no event handlers, no remote frames). */
export function renderMarkdown(text: string): string {
  const html = marked.parse(text, { async: false, gfm: true, breaks: false });
  return DOMPurify.sanitize(html, {
    USE_PROFILES: { html: true },
    FORBID_TAGS: ["style", "iframe", "form", "input", "object", "embed"],
    FORBID_ATTR: ["style"],
  });
}
