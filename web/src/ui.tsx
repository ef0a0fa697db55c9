import { createContext, useCallback, useContext, useEffect, useId, useRef, useState, type ReactNode } from "react";
import { Api, ProblemError, type Page, type Problem } from "./api/http";

export const ApiContext = createContext<Api | null>(null);

export function useApi(): Api {
  const api = useContext(ApiContext);
  if (!api) {
    throw new Error("No API in context.");
  }
  return api;
}

export function toProblem(error: unknown): Problem {
  if (error instanceof ProblemError) {
    return error.problem;
  }
  return { type: "about:blank", title: error instanceof Error ? error.message : String(error), status: 0, code: "console.error" };
}

/** Every error shows the problem's title, code and requestId, and the fields it names. */
export function ProblemView({ problem }: { problem: Problem | null }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    ref.current?.focus();
  }, [problem]);
  if (!problem) {
    return null;
  }
  return (
    <div className="problem" role="alert" tabIndex={-1} ref={ref} data-testid="problem">
      <strong className="problem-title">{problem.title}</strong>
      {problem.detail && <p>{problem.detail}</p>}
      <dl>
        {problem.code && (<><dt>code</dt><dd className="problem-code">{problem.code}</dd></>)}
        {problem.status > 0 && (<><dt>status</dt><dd>{problem.status}</dd></>)}
        {problem.requestId && (<><dt>requestId</dt><dd className="problem-request-id">{problem.requestId}</dd></>)}
      </dl>
      {problem.errors && (
        <ul>
          {Object.entries(problem.errors).map(([field, messages]) => (
            <li key={field}><code>{field}</code>: {messages.join(" ")}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** A labelled input; `error` is the field's validation message (ours before sending, or the API's). */
export function Field(props: {
  label: string;
  name: string;
  value: string;
  onChange: (value: string) => void;
  error?: string | undefined;
  type?: string;
  placeholder?: string;
  required?: boolean;
  hint?: string;
}) {
  const id = useId();
  const errorId = `${id}-error`;
  const hintId = `${id}-hint`;
  const describedBy = [props.error ? errorId : null, props.hint ? hintId : null].filter(Boolean).join(" ") || undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{props.label}{props.required && <span aria-hidden="true"> *</span>}</label>
      <input
        id={id}
        name={props.name}
        type={props.type ?? "text"}
        value={props.value}
        placeholder={props.placeholder}
        required={props.required}
        aria-invalid={props.error ? true : undefined}
        aria-describedby={describedBy}
        onChange={(event) => props.onChange(event.target.value)}
      />
      {props.hint && <small id={hintId}>{props.hint}</small>}
      {props.error && <span className="field-error" id={errorId}>{props.error}</span>}
    </div>
  );
}

export function Select(props: { label: string; name: string; value: string; options: readonly string[]; onChange: (value: string) => void }) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{props.label}</label>
      <select id={id} name={props.name} value={props.value} onChange={(event) => props.onChange(event.target.value)}>
        {props.options.map((option) => <option key={option} value={option}>{option}</option>)}
      </select>
    </div>
  );
}

export type FieldErrors = Record<string, string>;

/** Field errors named by a problem+json's `errors`, keyed by lower-cased field name. */
export function fieldErrors(problem: Problem | null): FieldErrors {
  const result: FieldErrors = {};
  for (const [field, messages] of Object.entries(problem?.errors ?? {})) {
    result[field.toLowerCase()] = messages.join(" ");
  }
  return result;
}

/** Runs an action, tracking busy state and the problem it raised. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const run = useCallback(async <T,>(action: () => Promise<T>): Promise<T | undefined> => {
    setBusy(true);
    setProblem(null);
    try {
      return await action();
    } catch (error) {
      setProblem(toProblem(error));
      return undefined;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, problem, setProblem, run };
}

/** Loads one value, again whenever `deps` change or `reload` is called. */
export function useLoad<T>(load: () => Promise<T>, deps: readonly unknown[]) {
  const [value, setValue] = useState<T | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [version, setVersion] = useState(0);
  useEffect(() => {
    let live = true;
    setProblem(null);
    load().then((v) => live && setValue(v), (error: unknown) => live && setProblem(toProblem(error)));
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, version]);
  return { value, problem, reload: () => setVersion((v) => v + 1) };
}

/** A cursor list: the first page, then "Load more" follows nextCursor to the end. */
export function usePaged<T>(fetchPage: (cursor: string | null) => Promise<Page<T>>, deps: readonly unknown[]) {
  const [items, setItems] = useState<T[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [version, setVersion] = useState(0);
  const fetchRef = useRef(fetchPage);
  fetchRef.current = fetchPage;

  useEffect(() => {
    let live = true;
    setLoading(true);
    setProblem(null);
    fetchRef.current(null).then(
      (page) => {
        if (live) {
          setItems(page.data);
          setNext(page.nextCursor ?? null);
        }
      },
      (error: unknown) => live && setProblem(toProblem(error)),
    ).finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, version]);

  const more = async () => {
    if (!next) {
      return;
    }
    setLoading(true);
    try {
      const page = await fetchRef.current(next);
      setItems((current) => [...current, ...page.data]);
      setNext(page.nextCursor ?? null);
    } catch (error) {
      setProblem(toProblem(error));
    } finally {
      setLoading(false);
    }
  };
  return { items, hasMore: next !== null, loading, problem, more, reload: () => setVersion((v) => v + 1) };
}

export function MoreButton({ list }: { list: { hasMore: boolean; loading: boolean; more: () => Promise<void> } }) {
  if (!list.hasMore) {
    return null;
  }
  return <button type="button" className="more" onClick={() => void list.more()} disabled={list.loading}>Load more</button>;
}

export function Busy({ when, label = "Working…" }: { when: boolean; label?: string }) {
  return when ? <p className="busy" role="status" aria-live="polite">{label}</p> : null;
}

export function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section aria-labelledby={title.replace(/\W+/g, "-").toLowerCase()}>
      <h2 id={title.replace(/\W+/g, "-").toLowerCase()}>{title}</h2>
      {children}
    </section>
  );
}

export function CopyButton({ text, label = "Copy" }: { text: string; label?: string }) {
  const [done, setDone] = useState(false);
  return (
    <button
      type="button"
      onClick={() => {
        void navigator.clipboard?.writeText(text).then(() => setDone(true), () => setDone(false));
      }}
    >
      {done ? "Copied" : label}
    </button>
  );
}

export function money(minor: number, currency: string): string {
  return new Intl.NumberFormat("en-IN", { style: "currency", currency }).format(minor / 100);
}

export function when(value: string | null | undefined): string {
  return value ? new Date(value).toLocaleString() : "—";
}
