// Which of lezer's highlighter classes the diff viewer colours (DiffRows.svelte's styles).
// The worker leaves every other token out of the spans it answers: a span that changes
// nothing on screen is still an element for WebKit to lay out and paint in every row that
// scrolls by (HTML's angle brackets and `=` were two of every three spans).

/** Classes coloured on their own. */
const PAINTED = new Set([
  "tok-keyword",
  "tok-operatorKeyword",
  "tok-modifier",
  "tok-string",
  "tok-string2",
  "tok-comment",
  "tok-number",
  "tok-bool",
  "tok-atom",
  "tok-literal",
  "tok-typeName",
  "tok-className",
  "tok-namespace",
  "tok-tagName",
  "tok-heading",
  "tok-attributeName",
  "tok-propertyName",
  "tok-function",
  "tok-meta",
  "tok-link",
  "tok-url",
]);

/** Answers by class string: the worker asks once per token, lezer has a few dozen strings. */
const known = new Map<string, boolean>();

/** Whether a token with these classes (space-separated, as lezer gives them) shows in colour. */
export function painted(classes: string): boolean {
  let answer = known.get(classes);
  if (answer === undefined) {
    const list = classes.split(" ");
    // A definition is coloured only as a variable's (`.tok-variableName.tok-definition`).
    answer = list.some((c) => PAINTED.has(c)) || (list.includes("tok-variableName") && list.includes("tok-definition"));
    known.set(classes, answer);
  }
  return answer;
}

/** The classes coloured on their own, for the test that holds the styles to this list. */
export const paintedClasses: ReadonlySet<string> = PAINTED;
