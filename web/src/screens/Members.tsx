import { useState } from "react";
import { roles, type Me, type Member, type Role } from "../api/types";
import { MoreButton, ProblemView, Section, useAction, useApi, usePaged } from "../ui";

export function MembersScreen({ orgId, me, onChanged }: { orgId: string; me: Me | null; onChanged: () => void }) {
  const api = useApi();
  const base = `/api/v1/orgs/${orgId}`;
  const members = usePaged((cursor) => api.page<Member>(`${base}/members`, cursor), [orgId]);
  const action = useAction();
  const [confirming, setConfirming] = useState<string | null>(null);

  const after = async (work: () => Promise<unknown>) => {
    await action.run(work);
    setConfirming(null);
    members.reload();
    onChanged();
  };

  return (
    <>
      <h1>Members</h1>
      <Section title="Members of this organization">
        <ProblemView problem={members.problem ?? action.problem} />
        <table>
          <thead><tr><th scope="col">Member</th><th scope="col">Role</th><th scope="col">Actions</th></tr></thead>
          <tbody>
            {members.items.map((m) => (
              <tr key={m.userId}>
                <td data-label="Member">{m.name ?? m.email ?? m.userId}<br /><small>{m.email} · {m.userId}</small></td>
                <td data-label="Role">
                  <select
                    aria-label={`Role of ${m.name ?? m.userId}`}
                    value={m.role ?? ""}
                    disabled={action.busy}
                    onChange={(e) => void after(() => api.patch(`${base}/members/${encodeURIComponent(m.userId)}`, { role: e.target.value as Role }))}
                  >
                    {roles.map((r) => <option key={r} value={r}>{r}</option>)}
                  </select>
                </td>
                <td data-label="Actions" className="actions">
                  {confirming === m.userId ? (
                    <>
                      <button type="button" className="danger" onClick={() => void after(() => api.delete(`${base}/members/${encodeURIComponent(m.userId)}`))}>
                        Confirm remove
                      </button>
                      <button type="button" onClick={() => setConfirming(null)}>Cancel</button>
                    </>
                  ) : (
                    <button type="button" onClick={() => setConfirming(m.userId)}>{m.userId === me?.userId ? "Leave" : "Remove"}</button>
                  )}
                  {m.role !== "owner" && (
                    <button type="button" onClick={() => void after(() => api.post(`${base}/transfer-ownership`, { userId: m.userId }))}>
                      Make owner (transfer)
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <MoreButton list={members} />
      </Section>
    </>
  );
}
