import { expect } from "vitest";
import type { Decision } from "../gate/decision.js";
import type { GateKeeper } from "../gate/gate-keeper.js";
import type { AdapterDriver, AdapterScenario, AdapterTurn } from "./adapter-driver.js";
import { call, conformanceGate, recordingTools } from "./adapter-fixtures.js";

/** What each group of scenarios gets from {@link runAdapterConformance}. */
export interface AdapterContext {
  driver: AdapterDriver;
  scenario(id: AdapterScenario, title: string, body: () => Promise<void>): void;
}

/** The model read a denial that names what the gate decided. */
export function expectReadsDenial(turn: AdapterTurn, decision: Decision | undefined, humanReason?: string): void {
  expect(decision?.type).toBe("deny");
  expect(turn.seen, "the model was shown no result for the denied call").toBeDefined();
  const seen = turn.seen!;
  // Shown as text or inside JSON (escaped); a rejection may show the human's own reason.
  const said = [decision!.code, decision!.reason, JSON.stringify(decision!.reason).slice(1, -1), humanReason].filter(
    (x) => x !== undefined,
  );
  expect(
    said.some((x) => seen.includes(x)),
    `model saw ${seen.slice(-600)}`,
  ).toBe(true);
}

/** The gate's last decision about `callId` (of any type). */
export const lastFor = (gate: GateKeeper, callId: string): Decision | undefined =>
  gate.decisions.findLast((d) => d.callId === callId);

/** No decision let this call id run (a human's approval of the untampered call aside). */
export function expectNeverAllowed(gate: GateKeeper, callId: string): void {
  expect(gate.decisions.filter((d) => d.callId === callId && d.type === "allow" && d.code !== "approved")).toEqual([]);
}

/** Pauses a deploy and returns everything a scenario needs to answer it. */
export async function pausedDeploy(driver: AdapterDriver, gate?: GateKeeper) {
  const g = gate ?? (await conformanceGate());
  const { tools, ran } = recordingTools();
  const c = call("deploy", "docs");
  const turn = await driver.run({ gate: g, tools, call: c });
  expect(turn.paused, "deploy must pause for a human").toBeDefined();
  expect(ran).toEqual([]);
  return { gate: g, tools, ran, call: c, paused: turn.paused };
}
