// Which links the desktop window may hand to the user's browser (shell.openExternal), after the user confirms. Plain
// Node (no electron import), unit-tested. Anything else is dropped: a page that could open any URL could start other
// applications through their URL schemes, or send the user to a look-alike site.

/** https hosts (and their subdomains) the app may link to: the model and dataset hub, and GitHub (the project, llama.cpp). */
export const EXTERNAL_HOSTS = ['huggingface.co', 'github.com'] as const;

/** The normalised URL when `raw` may be opened outside the app, else null. */
export function allowedExternalUrl(raw: string): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' || url.username !== '' || url.password !== '' || url.port !== '') return null;
  const host = url.hostname.toLowerCase();
  return EXTERNAL_HOSTS.some((h) => host === h || host.endsWith(`.${h}`)) ? url.href : null;
}
