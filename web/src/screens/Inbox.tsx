import { useState } from "react";
import type { InboxEvent } from "../api/types";
import { MoreButton, ProblemView, Select, useAction, useApi, usePaged, when } from "../ui";

const statuses = ["poison", "failed", "received", "ignored", "processed"];

/** Platform admins only (Auth:PlatformAdmins): Razorpay webhook events by status, with replay. */
export function InboxScreen() {
  const api = useApi();
  const [status, setStatus] = useState("poison");
  const list = usePaged((cursor) => api.page<InboxEvent>("/api/v1/ops/webhook-events", cursor, { status }), [status]);
  const replay = useAction();

  return (
    <>
      <h1>Webhook inbox</h1>
      <Select label="Status" name="status" value={status} options={statuses} onChange={setStatus} />
      <ProblemView problem={list.problem ?? replay.problem} />
      <table>
        <thead><tr><th scope="col">Event</th><th scope="col">Received</th><th scope="col">Attempts</th><th scope="col">Detail</th><th scope="col">Actions</th></tr></thead>
        <tbody>
          {list.items.map((e) => (
            <tr key={e.eventId}>
              <td data-label="Event"><code>{e.eventId}</code><br /><small>{e.event} · {e.status}</small></td>
              <td data-label="Received">{when(e.receivedAt)}</td>
              <td data-label="Attempts">{e.attempts} ({e.replays} replays)</td>
              <td data-label="Detail">{e.detail}</td>
              <td data-label="Actions">
                {["failed", "poison", "ignored"].includes(e.status) && (
                  <button type="button" disabled={replay.busy} onClick={() => void replay.run(() => api.post(`/api/v1/ops/webhook-events/${encodeURIComponent(e.eventId)}/replay`)).then(list.reload)}>
                    Replay
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {list.items.length === 0 && !list.loading && <p>No events in this status.</p>}
      <MoreButton list={list} />
    </>
  );
}
