import { useState } from "react";
import type { UsagePoint, UsageResponse } from "../api/types";
import { Field, ProblemView, Select, useApi, useLoad } from "../ui";

const granularities = ["hour", "day", "month"];

export function UsageScreen({ orgId }: { orgId: string }) {
  const api = useApi();
  const [meter, setMeter] = useState("api_calls");
  const [shownMeter, setShownMeter] = useState("api_calls");
  const [granularity, setGranularity] = useState("day");
  const usage = useLoad(() => api.get<UsageResponse>(`/api/v1/orgs/${orgId}/usage`, { meter: shownMeter.trim() || undefined, granularity }), [orgId, shownMeter, granularity]);
  const byMeter = new Map<string, UsagePoint[]>();
  for (const point of usage.value?.data ?? []) {
    byMeter.set(point.meter, [...(byMeter.get(point.meter) ?? []), point]);
  }

  return (
    <>
      <h1>Usage</h1>
      <div className="row">
        <form className="row" onSubmit={(e) => { e.preventDefault(); setShownMeter(meter); }} aria-label="Choose a meter">
          <Field label="Meter" name="meter" value={meter} onChange={setMeter} hint="Empty for every meter." />
          <button type="submit">Show</button>
        </form>
        <Select label="Granularity" name="granularity" value={granularity} options={granularities} onChange={setGranularity} />
      </div>
      <ProblemView problem={usage.problem} />
      {usage.value && byMeter.size === 0 && <UsageChart points={[]} title="" />}
      {[...byMeter].map(([name, points]) => <UsageChart key={name} points={points} title={`${name} per ${granularity}`} />)}
    </>
  );
}

/** A plain SVG bar chart; the table below it carries the same numbers for screen readers. */
export function UsageChart({ points, title }: { points: UsagePoint[]; title: string }) {
  if (points.length === 0) {
    return <p data-testid="usage-empty">No usage in this window yet (hours are rolled up hourly).</p>;
  }
  const width = 640;
  const height = 220;
  const max = Math.max(...points.map((p) => p.quantity), 1);
  const bar = width / points.length;
  return (
    <figure>
      <svg viewBox={`0 0 ${width} ${height + 20}`} role="img" aria-label={title} data-testid="usage-chart" className="chart">
        {points.map((p, i) => {
          const h = (p.quantity / max) * height;
          return (
            <g key={p.periodStart}>
              <rect x={i * bar + 2} y={height - h} width={Math.max(bar - 4, 1)} height={h} />
              <title>{`${new Date(p.periodStart).toLocaleString()}: ${p.quantity}`}</title>
            </g>
          );
        })}
        <line x1="0" x2={width} y1={height} y2={height} className="axis" />
        <text x="0" y={height + 16}>{new Date(points[0]!.periodStart).toLocaleDateString()}</text>
        <text x={width} y={height + 16} textAnchor="end">max {max}</text>
      </svg>
      <figcaption>{title}</figcaption>
      <details>
        <summary>Numbers</summary>
        <table>
          <thead><tr><th scope="col">Period</th><th scope="col">Quantity</th></tr></thead>
          <tbody>{points.map((p) => <tr key={p.periodStart}><td>{new Date(p.periodStart).toLocaleString()}</td><td>{p.quantity}</td></tr>)}</tbody>
        </table>
      </details>
    </figure>
  );
}
