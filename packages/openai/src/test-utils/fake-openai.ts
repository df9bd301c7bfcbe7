import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** A reply the fake server plays: a JSON body, an SSE stream, or an HTTP error. */
export type Reply = { json: unknown } | { sse: unknown[] } | { status: number; json: unknown };

export interface RecordedRequest {
  path: string;
  body: any;
}

/**
 * A real HTTP server on 127.0.0.1 that answers `openai` client requests with
 * recorded API payloads, in order, and records every request body.
 */
export class FakeOpenAI {
  readonly requests: RecordedRequest[] = [];
  readonly #queue: Reply[] = [];
  #server: Server | undefined;
  baseURL = "";

  static async start(replies: Reply[] = []): Promise<FakeOpenAI> {
    const fake = new FakeOpenAI();
    fake.#queue.push(...replies);
    const server = createServer((req, res) => {
      void fake.#handle(req).then(
        (reply) => {
          if ("sse" in reply) {
            res.writeHead(200, { "content-type": "text/event-stream" });
            for (const event of reply.sse) {
              const type = (event as { type?: string }).type;
              res.write(
                `${type && !("choices" in (event as object)) ? `event: ${type}\n` : ""}data: ${JSON.stringify(event)}\n\n`,
              );
            }
            if (reply.sse.some((e) => "choices" in (e as object))) res.write("data: [DONE]\n\n");
            res.end();
            return;
          }
          res.writeHead("status" in reply ? reply.status : 200, { "content-type": "application/json" });
          res.end(JSON.stringify(reply.json));
        },
        (error: unknown) => {
          res.writeHead(500, { "content-type": "application/json" });
          res.end(JSON.stringify({ error: { message: String(error) } }));
        },
      );
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    fake.#server = server;
    fake.baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
    return fake;
  }

  /** Queues more replies. */
  play(...replies: Reply[]): void {
    this.#queue.push(...replies);
  }

  async #handle(req: IncomingMessage): Promise<Reply> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    this.requests.push({ path: (req.url ?? "").replace(/^\/v1/, ""), body: text ? JSON.parse(text) : undefined });
    const next = this.#queue.shift();
    if (!next) return { status: 500, json: { error: { message: "fake server: no reply queued" } } };
    return next;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.#server?.close(() => resolve()) ?? resolve());
  }
}
