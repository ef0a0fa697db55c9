import { useState, type FormEvent } from "react";
import type { AuditEvent } from "../api/types";
import { Field, MoreButton, ProblemView, useApi, usePaged, when } from "../ui";

export function AuditScreen({ orgId }: { orgId: string }) {
  const api = useApi();
  const [action, setAction] = useState("");
  const [actor, setActor] = useState("");
  const [filter, setFilter] = useState({ action: "", actor: "" });
  const list = usePaged((cursor) => api.page<AuditEvent>(`/api/v1/orgs/${orgId}/audit-events`, cursor, filter), [orgId, filter]);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setFilter({ action: action.trim(), actor: actor.trim() });
  };

  return (
    <>
      <h1>Audit log</h1>
      <form className="row" onSubmit={submit} aria-label="Filter the audit log">
        <Field label="Action" name="action" value={action} onChange={setAction} placeholder="member.role_changed" />
        <Field label="Actor" name="actor" value={actor} onChange={setActor} placeholder="user:… or api_key:…" />
        <button type="submit">Filter</button>
      </form>
      <ProblemView problem={list.problem} />
      <table>
        <thead><tr><th scope="col">When</th><th scope="col">Action</th><th scope="col">Actor</th><th scope="col">Target</th><th scope="col">Request</th></tr></thead>
        <tbody>
          {list.items.map((e) => (
            <tr key={e.id}>
              <td data-label="When">{when(e.occurredAt)}</td>
              <td data-label="Action"><code>{e.action}</code></td>
              <td data-label="Actor">{e.actor.kind}:{e.actor.id}{e.actor.email ? ` (${e.actor.email})` : ""}</td>
              <td data-label="Target">{e.target.type}:{e.target.id}</td>
              <td data-label="Request"><small>{e.requestId}</small></td>
            </tr>
          ))}
        </tbody>
      </table>
      {list.items.length === 0 && !list.loading && <p>No events match.</p>}
      <MoreButton list={list} />
    </>
  );
}
