/**
 * Text from the API (names, alt texts, error messages) is shown on a terminal and in logs. Some
 * characters there are commands, not text: ESC starts escape sequences (retitle the window,
 * rewrite the screen), BEL rings, C1 controls act like ESC on some terminals, and the bidi
 * overrides and isolates reorder what follows (`gpj.exe` shown as `exe.jpg`). They are shown
 * as `\uXXXX` escapes instead, and never put in a file name.
 */

/** C0 controls but tab and line feed, DEL, C1 controls, line/paragraph separators, bidi marks, embeddings, overrides and isolates. */
export const CONTROL_OR_BIDI = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const escape = (char: string): string => `\\u${(char.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`;

/**
 * Text safe to write to a terminal: every control or bidi character shown as `\uXXXX`, line
 * feeds and tabs kept. On JSON.stringify's output it is still the same JSON value (those
 * characters only occur inside strings, where `\uXXXX` means them): it escapes the C0 controls
 * itself but leaves DEL, C1, U+2028/9 and the bidi characters raw.
 */
export function escapeControls(text: string): string {
  return text.replace(CONTROL_OR_BIDI, escape);
}
