/** One page of a list as the API answers it. */
export interface Page<T> {
  data: T[];
  nextCursor?: string | null;
}

/**
 * Every item of a cursor-paged list, fetching page after page as the loop asks for more:
 *
 * ```ts
 * for await (const member of pages((cursor) =>
 *   client.GET("/api/v1/orgs/{orgId}/members", { params: { path: { orgId }, query: { cursor } } }))) { … }
 * ```
 */
export async function* pages<T>(
  fetchPage: (cursor: string | undefined) => Promise<{ data?: Page<T> | undefined }>,
): AsyncGenerator<T, void, undefined> {
  let cursor: string | undefined;
  do {
    const { data: page } = await fetchPage(cursor);
    if (page === undefined) {
      return;
    }

    yield* page.data;
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
}
