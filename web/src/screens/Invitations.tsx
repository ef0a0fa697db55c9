import { useState, type FormEvent } from "react";
import { roles, type AcceptedInvitation, type CreatedInvitation, type Invitation, type Role } from "../api/types";
import { hashQuery, go } from "../route";
import { Busy, CopyButton, Field, MoreButton, ProblemView, Section, Select, fieldErrors, useAction, useApi, usePaged, when, type FieldErrors } from "../ui";

/** The link a new member opens: the console's accept screen with the one-time token. */
export function acceptLink(token: string): string {
  return `${window.location.origin}${window.location.pathname}#/accept?token=${encodeURIComponent(token)}`;
}

export function InvitationsScreen({ orgId }: { orgId: string }) {
  const api = useApi();
  const base = `/api/v1/orgs/${orgId}/invitations`;
  const list = usePaged((cursor) => api.page<Invitation>(base, cursor), [orgId]);
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<Role>("member");
  const [days, setDays] = useState("7");
  const [errors, setErrors] = useState<FieldErrors>({});
  const [link, setLink] = useState<string | null>(null);
  const create = useAction();
  const revoke = useAction();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const found: FieldErrors = {};
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email.trim())) {
      found.email = "An email address is required.";
    }
    const n = Number(days);
    if (!Number.isInteger(n) || n < 1 || n > 30) {
      found.expiresindays = "A whole number of days, 1 to 30.";
    }
    setErrors(found);
    if (Object.keys(found).length > 0) {
      return;
    }
    const created = await create.run(() => api.post<CreatedInvitation>(base, { email: email.trim(), role, expiresInDays: n }));
    if (created) {
      setLink(acceptLink(created.token));
      setEmail("");
      list.reload();
    }
  };

  const shown = { ...fieldErrors(create.problem), ...errors };
  return (
    <>
      <h1>Invitations</h1>
      <Section title="Invite someone">
        <form onSubmit={(e) => void submit(e)} noValidate aria-label="Invite someone">
          <Field label="Email" name="email" type="email" value={email} onChange={setEmail} error={shown.email} required />
          <Select label="Role" name="role" value={role} options={roles} onChange={(v) => setRole(v as Role)} />
          <Field label="Expires in days" name="expiresInDays" type="number" value={days} onChange={setDays} error={shown.expiresindays} />
          <button type="submit" disabled={create.busy}>Create invitation</button>
          <Busy when={create.busy} />
          <ProblemView problem={create.problem} />
        </form>
        {link && (
          <div className="secret" role="status">
            <p>Send this link to the invitee. It is shown only now.</p>
            <code data-testid="invitation-link">{link}</code> <CopyButton text={link} label="Copy link" />
          </div>
        )}
      </Section>
      <Section title="Pending invitations">
        <ProblemView problem={list.problem ?? revoke.problem} />
        <table>
          <thead><tr><th scope="col">Email</th><th scope="col">Role</th><th scope="col">Expires</th><th scope="col">Actions</th></tr></thead>
          <tbody>
            {list.items.map((i) => (
              <tr key={i.id}>
                <td data-label="Email">{i.email}</td>
                <td data-label="Role">{i.role}</td>
                <td data-label="Expires">{when(i.expiresAt)}</td>
                <td data-label="Actions">
                  <button type="button" className="danger" disabled={revoke.busy} onClick={() => void revoke.run(() => api.delete(`${base}/${i.id}`)).then(list.reload)}>
                    Revoke
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {list.items.length === 0 && !list.loading && <p>No pending invitations.</p>}
        <MoreButton list={list} />
      </Section>
    </>
  );
}

export function AcceptScreen({ onAccepted }: { onAccepted: () => void }) {
  const api = useApi();
  const token = hashQuery("token") ?? "";
  const accept = useAction();
  const [accepted, setAccepted] = useState<AcceptedInvitation | null>(null);

  const submit = async () => {
    const result = await accept.run(() => api.post<AcceptedInvitation>("/api/v1/invitations/accept", { token }));
    if (result) {
      setAccepted(result);
      onAccepted();
    }
  };

  return (
    <>
      <h1>Accept an invitation</h1>
      {!token && <p role="alert">This link has no invitation token.</p>}
      {accepted ? (
        <p role="status">
          You joined as {accepted.role}{accepted.alreadyMember ? " (you were already a member)" : ""}.{" "}
          <button type="button" onClick={() => go(`orgs/${accepted.orgId}/members`)}>Open the organization</button>
        </p>
      ) : (
        <button type="button" disabled={!token || accept.busy} onClick={() => void submit()}>Accept invitation</button>
      )}
      <Busy when={accept.busy} />
      <ProblemView problem={accept.problem} />
    </>
  );
}
