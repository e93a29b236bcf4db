/**
 * The tasks.verify_urls column, the same on both stores: a task's VerifyUrl samples
 * (domain/verify-url.ts), one a line (a URL holds no line break); null when there are none.
 */
export function joinVerifyUrls(urls: string[] | undefined): string | null {
  return urls && urls.length > 0 ? urls.join('\n') : null;
}

export function splitVerifyUrls(column: string | null | undefined): string[] {
  return column ? column.split('\n') : [];
}
