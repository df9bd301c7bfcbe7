/**
 * Wraps a function that returns a promise so that a synchronous throw (odd input from a framework,
 * a bug) becomes a rejection: hosts that call it without `await` inside a `try` still see a
 * rejected promise, never an exception escaping where they expected a promise. Lets adapters keep
 * hot callbacks non-`async` (one promise fewer per call) without changing that contract.
 */
export function rejectOnThrow<A, R>(fn: (arg: A) => Promise<R>): (arg: A) => Promise<R> {
  return (arg) => {
    try {
      return fn(arg);
    } catch (error) {
      return Promise.reject(error);
    }
  };
}
