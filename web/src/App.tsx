import { useEffect, useMemo, useState, type FormEvent } from "react";
import { loadConfig, type ConsoleConfig } from "./api/config";
import { Api } from "./api/http";
import type { Me } from "./api/types";
import { devAuth, devIssuerIsOn, devSignIn, type Auth } from "./auth";
import { go, hashQuery, useRoute } from "./route";
import { ApiContext, Field, ProblemView, toProblem, useLoad } from "./ui";
import { OrgsScreen } from "./screens/Orgs";
import { MembersScreen } from "./screens/Members";
import { InvitationsScreen, AcceptScreen } from "./screens/Invitations";
import { ApiKeysScreen } from "./screens/ApiKeys";
import { InvoicesScreen } from "./screens/Invoices";
import { UsageScreen } from "./screens/Usage";
import { LedgerScreen } from "./screens/Ledger";
import { AuditScreen } from "./screens/Audit";
import { PlanScreen } from "./screens/Plan";
import { WebhooksScreen } from "./screens/Webhooks";
import { InboxScreen } from "./screens/Inbox";
import { DashboardScreen } from "./screens/Dashboard";
import { PaymentsScreen } from "./screens/Payments";
import { CreditNotesScreen, CreditsScreen } from "./screens/Credits";

interface Booted {
  config: ConsoleConfig;
  auth: Auth | null;
  devIssuer: boolean;
}

/** Loads the runtime config, then picks the sign-in: Entra ID if configured, else the dev issuer if the API has it on. */
export function Boot() {
  const [booted, setBooted] = useState<Booted | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [version, setVersion] = useState(0);

  useEffect(() => {
    (async () => {
      const config = await loadConfig();
      if (config.entraClientId) {
        const { entraAuth } = await import("./entra");
        const auth = await entraAuth(config);
        return { config, auth: auth.user() ? auth : null, devIssuer: false };
      }
      const devIssuer = await devIssuerIsOn(config.apiUrl);
      const auth = devAuth();
      return { config, auth: auth.user() ? auth : null, devIssuer };
    })().then(setBooted, (e: unknown) => setError(toProblem(e).title));
  }, [version]);

  if (error) {
    return <main className="signin"><h1>RaptorFlow</h1><p role="alert">{error}</p></main>;
  }
  if (!booted) {
    return <main className="signin"><p role="status">Loading…</p></main>;
  }
  if (!booted.auth) {
    return <SignIn booted={booted} onSignedIn={() => setVersion((v) => v + 1)} />;
  }
  return <Console config={booted.config} auth={booted.auth} onSignedOut={() => setVersion((v) => v + 1)} />;
}

function SignIn({ booted, onSignedIn }: { booted: Booted; onSignedIn: () => void }) {
  const [sub, setSub] = useState("");
  const [email, setEmail] = useState("");
  const [name, setName] = useState("");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [problem, setProblem] = useState<ReturnType<typeof toProblem> | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const found: Record<string, string> = {};
    if (!/^[A-Za-z0-9._:@-]{1,128}$/.test(sub.trim())) {
      found.sub = "1-128 letters, digits or . _ : @ -";
    }
    if (email && !/^[^@\s]+@[^@\s]+$/.test(email)) {
      found.email = "Not an email address.";
    }
    setErrors(found);
    if (Object.keys(found).length > 0) {
      return;
    }
    try {
      await devSignIn(booted.config.apiUrl, sub.trim(), email.trim(), name.trim());
      onSignedIn();
    } catch (e) {
      setProblem(toProblem(e));
    }
  };

  return (
    <main className="signin">
      <h1>RaptorFlow console</h1>
      {booted.config.entraClientId ? (
        <button type="button" onClick={() => void import("./entra").then(({ entraSignIn }) => entraSignIn(booted.config))}>Sign in with Microsoft</button>
      ) : booted.devIssuer ? (
        <form onSubmit={(e) => void submit(e)} noValidate aria-label="Sign in as">
          <p>The API's development token issuer is on: sign in as any user.</p>
          <Field label="User id" name="sub" value={sub} onChange={setSub} error={errors.sub} required />
          <Field label="Email" name="email" type="email" value={email} onChange={setEmail} error={errors.email} />
          <Field label="Name" name="name" value={name} onChange={setName} />
          <button type="submit">Sign in as</button>
          <ProblemView problem={problem} />
        </form>
      ) : (
        <p role="alert">No sign-in is configured: set entraClientId in config.json, or turn on the API's development issuer.</p>
      )}
    </main>
  );
}

const orgScreens = [
  ["dashboard", "Dashboard"],
  ["members", "Members"],
  ["invitations", "Invitations"],
  ["api-keys", "API keys"],
  ["subscription", "Plan"],
  ["invoices", "Invoices"],
  ["payments", "Payments"],
  ["credits", "Credits"],
  ["credit-notes", "Credit notes"],
  ["usage", "Usage"],
  ["ledger", "Ledger"],
  ["audit", "Audit log"],
  ["webhooks", "Webhooks"],
] as const;

function Console({ config, auth, onSignedOut }: { config: ConsoleConfig; auth: Auth; onSignedOut: () => void }) {
  const api = useMemo(() => new Api({ baseUrl: config.apiUrl, token: () => auth.token() }), [config, auth]);
  const route = useRoute();
  const me = useLoad(() => api.get<Me>("/api/v1/me"), [api]);
  const [orgId, screen] = route[0] === "orgs" ? [route[1], route[2]] : [undefined, undefined];

  useEffect(() => {
    if (route.length === 0 && !hashQuery("token")) {
      go("orgs");
    }
  }, [route]);

  const org = me.value?.orgs.find((o) => o.id === orgId);
  let body;
  if (route[0] === "accept") {
    body = <AcceptScreen onAccepted={() => me.reload()} />;
  } else if (route[0] === "ops") {
    body = <InboxScreen />;
  } else if (orgId && screen) {
    body = {
      dashboard: <DashboardScreen orgId={orgId} />,
      members: <MembersScreen orgId={orgId} me={me.value} onChanged={me.reload} />,
      invitations: <InvitationsScreen orgId={orgId} />,
      "api-keys": <ApiKeysScreen orgId={orgId} />,
      subscription: <PlanScreen orgId={orgId} />,
      invoices: <InvoicesScreen orgId={orgId} />,
      payments: <PaymentsScreen orgId={orgId} />,
      credits: <CreditsScreen orgId={orgId} />,
      "credit-notes": <CreditNotesScreen orgId={orgId} />,
      usage: <UsageScreen orgId={orgId} />,
      ledger: <LedgerScreen orgId={orgId} />,
      audit: <AuditScreen orgId={orgId} />,
      webhooks: <WebhooksScreen orgId={orgId} />,
    }[screen] ?? <p>Unknown screen.</p>;
  } else {
    body = <OrgsScreen me={me.value} onCreated={(id) => { me.reload(); go(`orgs/${id}/members`); }} />;
  }

  return (
    <ApiContext.Provider value={api}>
      <a className="skip" href="#main">Skip to content</a>
      <header className="top">
        <a href="#/orgs" className="brand">RaptorFlow</a>
        {me.value && me.value.orgs.length > 0 && (
          <label className="switcher">
            <span className="visually-hidden">Organization</span>
            <select
              aria-label="Organization"
              value={orgId ?? ""}
              onChange={(e) => go(e.target.value ? `orgs/${e.target.value}/${screen ?? "members"}` : "orgs")}
            >
              <option value="">All organizations</option>
              {me.value.orgs.map((o) => <option key={o.id} value={o.id}>{o.name}</option>)}
            </select>
          </label>
        )}
        <span className="who">{auth.user()}</span>
        <button type="button" onClick={() => void auth.signOut().then(onSignedOut)}>Sign out</button>
      </header>
      {orgId && (
        <nav aria-label="Organization" className="tabs">
          {orgScreens.map(([path, label]) => (
            <a key={path} href={`#/orgs/${orgId}/${path}`} aria-current={screen === path ? "page" : undefined}>{label}</a>
          ))}
        </nav>
      )}
      <main id="main" tabIndex={-1}>
        {org && <p className="crumb">{org.name} <small>({org.slug}, you are {org.role})</small></p>}
        <ProblemView problem={me.problem} />
        {body}
      </main>
      <footer><a href="#/ops/webhook-events">Platform admin: webhook inbox</a></footer>
    </ApiContext.Provider>
  );
}
