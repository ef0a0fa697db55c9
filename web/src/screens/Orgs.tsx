import { useState, type FormEvent } from "react";
import type { Me, Org } from "../api/types";
import { Busy, Field, MoreButton, ProblemView, Section, fieldErrors, useAction, useApi, usePaged, type FieldErrors } from "../ui";

export function OrgsScreen({ me, onCreated }: { me: Me | null; onCreated: (orgId: string) => void }) {
  const api = useApi();
  const orgs = usePaged((cursor) => api.page<Org>("/api/v1/orgs", cursor), [me]);
  const [name, setName] = useState("");
  const [slug, setSlug] = useState("");
  const [errors, setErrors] = useState<FieldErrors>({});
  const create = useAction();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const found: FieldErrors = {};
    if (name.trim().length === 0 || name.trim().length > 200) {
      found.name = "Required, at most 200 characters.";
    }
    if (slug && !/^[a-z0-9-]{3,40}$/.test(slug)) {
      found.slug = "3-40 of a-z, 0-9 and -.";
    }
    setErrors(found);
    if (Object.keys(found).length > 0) {
      return;
    }
    const org = await create.run(() => api.post<Org>("/api/v1/orgs", { name: name.trim(), slug: slug || undefined }));
    if (org) {
      setName("");
      setSlug("");
      onCreated(org.id);
    }
  };

  const shown = { ...fieldErrors(create.problem), ...errors };
  return (
    <>
      <h1>Organizations</h1>
      <Section title="Your organizations">
        <ProblemView problem={orgs.problem} />
        {orgs.items.length === 0 && !orgs.loading && <p>You belong to no organization yet. Create one below, or accept an invitation link.</p>}
        <ul className="cards">
          {orgs.items.map((org) => (
            <li key={org.id}>
              <a href={`#/orgs/${org.id}/members`}>{org.name}</a> <small>{org.slug} · {org.role}</small>
            </li>
          ))}
        </ul>
        <MoreButton list={orgs} />
      </Section>
      <Section title="Create an organization">
        <form onSubmit={(e) => void submit(e)} noValidate aria-label="Create an organization">
          <Field label="Name" name="name" value={name} onChange={setName} error={shown.name} required />
          <Field label="Slug" name="slug" value={slug} onChange={setSlug} error={shown.slug} hint="Optional; generated from the name when empty." />
          <button type="submit" disabled={create.busy}>Create</button>
          <Busy when={create.busy} />
          <ProblemView problem={create.problem} />
        </form>
      </Section>
    </>
  );
}
