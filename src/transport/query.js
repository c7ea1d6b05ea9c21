// `dom::with_query`: the resume parameter set in a URL's query, in JavaScript because
// it is smaller here than in the wasm.

/** `url` with `param=id` in its query, the other pairs left as they are written:
 *  URLSearchParams.set would write them all again in its own form (`%20` as `+`, `,`
 *  as `%2C`, `flag` as `flag=`), which a server that signs the query would refuse.
 *  Throws for a URL that does not parse. */
export function withQuery(url, param, id) {
  const parsed = new URL(url);
  const name = encodeURIComponent(param);
  const pairs = parsed.search.slice(1).split('&').filter((pair) => {
    const key = pair.split('=')[0];
    return pair && key !== name && key !== param;
  });
  pairs.push(`${name}=${encodeURIComponent(id)}`);
  parsed.search = pairs.join('&');
  return parsed.href;
}
