import { useState, type FormEvent } from "react";
import { keyCapabilities, type ApiKey, type IssuedApiKey } from "../api/types";
import { Busy, CopyButton, Field, MoreButton, ProblemView, Section, Select, fieldErrors, useAction, useApi, usePaged, when, type FieldErrors } from "../ui";

const cidrPattern = /^(\d{1,3}(\.\d{1,3}){3}(\/\d{1,2})?|[0-9a-fA-F:]+(\/\d{1,3})?)$/;

export function ApiKeysScreen({ orgId }: { orgId: string }) {
  const api = useApi();
  const base = `/api/v1/orgs/${orgId}/api-keys`;
  const list = usePaged((cursor) => api.page<ApiKey>(base, cursor), [orgId]);
  const [name, setName] = useState("");
  const [capabilities, setCapabilities] = useState<string[]>(["org:read"]);
  const [cidrs, setCidrs] = useState("");
  const [mode, setMode] = useState("live");
  const [overlap, setOverlap] = useState("3600");
  const [errors, setErrors] = useState<FieldErrors>({});
  const [secret, setSecret] = useState<IssuedApiKey | null>(null);
  const create = useAction();
  const change = useAction();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const blocks = cidrs.split(/[\s,]+/).filter(Boolean);
    const found: FieldErrors = {};
    if (!name.trim() || name.trim().length > 100) {
      found.name = "Required, at most 100 characters.";
    }
    if (capabilities.length === 0) {
      found.capabilities = "Choose at least one capability.";
    }
    const bad = blocks.find((b) => !cidrPattern.test(b));
    if (bad) {
      found.allowedcidrs = `Not an address or CIDR block: ${bad}`;
    }
    setErrors(found);
    if (Object.keys(found).length > 0) {
      return;
    }
    const issued = await create.run(() => api.post<IssuedApiKey>(base, { name: name.trim(), capabilities, allowedCidrs: blocks, mode }));
    if (issued) {
      setSecret(issued);
      setName("");
      list.reload();
    }
  };

  const roll = async (key: ApiKey) => {
    const seconds = Number(overlap);
    if (!Number.isInteger(seconds) || seconds < 0 || seconds > 604800) {
      change.setProblem({ type: "about:blank", title: "The overlap must be 0 to 604800 seconds.", status: 0, code: "form.invalid" });
      return;
    }
    const issued = await change.run(() => api.post<IssuedApiKey>(`${base}/${key.id}/roll`, { expireOldInSeconds: seconds }));
    if (issued) {
      setSecret(issued);
      list.reload();
    }
  };

  const shown = { ...fieldErrors(create.problem), ...errors };
  return (
    <>
      <h1>API keys</h1>
      {secret && (
        <div className="secret" role="status">
          <p>The secret of <strong>{secret.apiKey.name}</strong>, shown this once:</p>
          <code data-testid="api-key-secret">{secret.key}</code> <CopyButton text={secret.key} />
          <button type="button" onClick={() => setSecret(null)}>I have stored it</button>
        </div>
      )}
      <Section title="Create a key">
        <form onSubmit={(e) => void submit(e)} noValidate aria-label="Create a key">
          <Field label="Name" name="name" value={name} onChange={setName} error={shown.name} required />
          <fieldset aria-describedby={shown.capabilities ? "caps-error" : undefined}>
            <legend>Capabilities</legend>
            <div className="checks">
              {keyCapabilities.map((c) => (
                <label key={c}>
                  <input
                    type="checkbox"
                    name="capabilities"
                    value={c}
                    checked={capabilities.includes(c)}
                    onChange={(e) => setCapabilities((now) => (e.target.checked ? [...now, c] : now.filter((x) => x !== c)))}
                  />{" "}
                  {c}
                </label>
              ))}
            </div>
            {shown.capabilities && <span className="field-error" id="caps-error">{shown.capabilities}</span>}
          </fieldset>
          <Field label="Allowed CIDRs" name="allowedCidrs" value={cidrs} onChange={setCidrs} error={shown.allowedcidrs} hint="Optional; space- or comma-separated, e.g. 203.0.113.0/24 2001:db8::/32" />
          <Select label="Mode" name="mode" value={mode} options={["live", "test"]} onChange={setMode} />
          <button type="submit" disabled={create.busy}>Create key</button>
          <Busy when={create.busy} />
          <ProblemView problem={create.problem} />
        </form>
      </Section>
      <Section title="Keys">
        <Field label="Roll overlap (seconds the old secret keeps working)" name="overlap" type="number" value={overlap} onChange={setOverlap} />
        <ProblemView problem={list.problem ?? change.problem} />
        <table>
          <thead><tr><th scope="col">Name</th><th scope="col">Prefix</th><th scope="col">Status</th><th scope="col">Capabilities</th><th scope="col">Last used</th><th scope="col">Actions</th></tr></thead>
          <tbody>
            {list.items.map((k) => (
              <tr key={k.id} data-key-id={k.id}>
                <td data-label="Name">{k.name}</td>
                <td data-label="Prefix"><code>{k.prefix}</code></td>
                <td data-label="Status" className="key-status">{k.status}</td>
                <td data-label="Capabilities">{k.capabilities.join(", ")}{k.allowedCidrs.length > 0 && <><br /><small>from {k.allowedCidrs.join(", ")}</small></>}</td>
                <td data-label="Last used">{when(k.lastUsedAt)}</td>
                <td data-label="Actions" className="actions">
                  {k.status === "active" && (
                    <>
                      <button type="button" disabled={change.busy} onClick={() => void roll(k)}>Roll</button>
                      <button type="button" className="danger" disabled={change.busy} onClick={() => void change.run(() => api.delete(`${base}/${k.id}`)).then(list.reload)}>
                        Revoke
                      </button>
                    </>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {list.items.length === 0 && !list.loading && <p>No keys yet.</p>}
        <MoreButton list={list} />
      </Section>
    </>
  );
}
