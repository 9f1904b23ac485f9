// For tests: the error a call is expected to refuse with, as a value to assert on. An error of
// another class passes through unchanged (so the test shows it), and no error at all fails
// naming the class that was expected.

type ErrorClass<E extends Error> = abstract new (...args: never[]) => E;

/** The `type` error `fn` throws. */
export function thrown<E extends Error>(type: ErrorClass<E>, fn: () => unknown): E {
  try {
    fn();
  } catch (e) {
    if (e instanceof type) return e;
    throw e;
  }
  throw new Error(`expected a ${type.name}`);
}

/** The `type` error `p` rejects with. */
export async function rejected<E extends Error>(type: ErrorClass<E>, p: Promise<unknown>): Promise<E> {
  try {
    await p;
  } catch (e) {
    if (e instanceof type) return e;
    throw e;
  }
  throw new Error(`expected a ${type.name}`);
}
