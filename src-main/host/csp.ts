// The Content-Security-Policy every host sends with the renderer: the desktop window (src-main/electron) and the
// browser UI of `distillery serve` (src-main/server) load the same files under the same rules.
export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; " +
  "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";
