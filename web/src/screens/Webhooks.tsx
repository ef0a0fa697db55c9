import { useState, type FormEvent } from "react";
import type { WebhookDelivery, WebhookEndpoint } from "../api/types";
import { Busy, CopyButton, Field, MoreButton, ProblemView, Section, fieldErrors, useAction, useApi, usePaged, when, type FieldErrors } from "../ui";

export function WebhooksScreen({ orgId }: { orgId: string }) {
  const api = useApi();
  const base = `/api/v1/orgs/${orgId}/webhook-endpoints`;
  const list = usePaged((cursor) => api.page<WebhookEndpoint>(base, cursor), [orgId]);
  const [url, setUrl] = useState("");
  const [types, setTypes] = useState("");
  const [errors, setErrors] = useState<FieldErrors>({});
  const [secret, setSecret] = useState<string | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const create = useAction();
  const change = useAction();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const found: FieldErrors = {};
    try {
      new URL(url);
    } catch {
      found.url = "An absolute https URL.";
    }
    setErrors(found);
    if (Object.keys(found).length > 0) {
      return;
    }
    const eventTypes = types.split(/[\s,]+/).filter(Boolean);
    const created = await create.run(() => api.post<{ endpoint: WebhookEndpoint; secret: string }>(base, { url, eventTypes }));
    if (created) {
      setSecret(created.secret);
      setUrl("");
      list.reload();
    }
  };

  const shown = { ...fieldErrors(create.problem), ...errors };
  return (
    <>
      <h1>Webhooks</h1>
      <Section title="Add an endpoint">
        <form onSubmit={(e) => void submit(e)} noValidate aria-label="Add an endpoint">
          <Field label="URL" name="url" type="url" value={url} onChange={setUrl} error={shown.url} required />
          <Field label="Event types" name="eventTypes" value={types} onChange={setTypes} error={shown.eventtypes} hint="Optional; empty for every type." />
          <button type="submit" disabled={create.busy}>Add endpoint</button>
          <Busy when={create.busy} />
          <ProblemView problem={create.problem} />
        </form>
        {secret && <div className="secret" role="status"><p>Signing secret, shown once:</p><code>{secret}</code> <CopyButton text={secret} /></div>}
      </Section>
      <Section title="Endpoints">
        <ProblemView problem={list.problem ?? change.problem} />
        <ul className="cards">
          {list.items.map((e) => (
            <li key={e.id}>
              <strong>{e.url}</strong> <small>{e.enabled ? "enabled" : `disabled (${e.disabledReason})`} · {e.eventTypes.length === 0 ? "every event" : e.eventTypes.join(", ")}</small>
              <div className="actions">
                <button type="button" aria-expanded={open === e.id} onClick={() => setOpen(open === e.id ? null : e.id)}>Delivery log</button>
                <button type="button" disabled={change.busy} onClick={() => void change.run(() => api.post(`${base}/${e.id}/test`)).then(() => setOpen(e.id))}>Send a ping</button>
                <button type="button" className="danger" disabled={change.busy} onClick={() => void change.run(() => api.delete(`${base}/${e.id}`)).then(list.reload)}>Delete</button>
              </div>
              {open === e.id && <Deliveries path={`${base}/${e.id}/deliveries`} />}
            </li>
          ))}
        </ul>
        {list.items.length === 0 && !list.loading && <p>No endpoints.</p>}
        <MoreButton list={list} />
      </Section>
    </>
  );
}

function Deliveries({ path }: { path: string }) {
  const api = useApi();
  const list = usePaged((cursor) => api.page<WebhookDelivery>(path, cursor), [path]);
  return (
    <>
      <ProblemView problem={list.problem} />
      <table>
        <thead><tr><th scope="col">Event</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Next attempt</th></tr></thead>
        <tbody>
          {list.items.map((d) => (
            <tr key={d.id}>
              <td data-label="Event">{d.eventType} <small>{when(d.eventCreatedAt)}</small></td>
              <td data-label="Status">{d.status}</td>
              <td data-label="Attempts">{d.attemptCount}</td>
              <td data-label="Next attempt">{when(d.nextAttemptAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {list.items.length === 0 && !list.loading && <p>No deliveries yet.</p>}
      <MoreButton list={list} />
    </>
  );
}
