/**
 * An MMSC emulator for tests and for operators trying MM7 without a carrier. It takes SubmitReq on
 * any path, checks it (check-submit.ts), answers SubmitRsp with a MessageID, and posts a
 * DeliveryReportReq per recipient to the gateway, retrying each until a DeliveryReportRsp comes
 * back, so reports posted while the gateway is down arrive once it is up. A control API under
 * /control drives it: GET /control/submissions, POST /control/faults, POST /control/deliver,
 * POST /control/read-reply, POST /control/reports, GET /control/reports.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { readMm7Answer } from '../carriers/mm7/responses.ts';
import { checkSubmitReq, type ReceivedSubmission } from './check-submit.ts';
import {
  deliverReq,
  deliveryReportReq,
  type HandsetMessage,
  readReplyReq,
  rsErrorFault,
  submitRsp,
} from './mm7-messages.ts';
import { mmscScriptFor } from './scripts.ts';

export interface MmscEmulatorOptions {
  port?: number;
  host?: string;
  /** Where DeliveryReportReq and DeliverReq go (the gateway's POST /mm7/<name>). */
  gatewayUrl?: string;
  /** Basic auth the emulator sends to the gateway. */
  gatewayUsername?: string;
  gatewayPassword?: string;
  /** Basic auth the emulator requires on SubmitReq; none when unset. */
  username?: string;
  password?: string;
  reportDelayMs?: number;
  /** First retry of an unanswered report; doubles up to reportRetryMaxMs. */
  reportRetryMs?: number;
  reportRetryMaxMs?: number;
  /** How many submits to a +1NPA5550106 recipient answer 4006 before it is accepted. */
  serviceUnavailableSubmits?: number;
  maxBodyBytes?: number;
  log?: (line: string) => void;
}

/** The next `count` submits answer this way instead of being checked and accepted. */
export interface FaultRule {
  count?: number;
  /** An MM7 status code, sent as a SOAP Fault with RSErrorRsp (HTTP 500 unless httpStatus says). */
  statusCode?: number;
  statusText?: string;
  /** An HTTP status; alone, a plain-text body without SOAP. */
  httpStatus?: number;
  /** Never answer (the connection stays open until the client gives up or the emulator closes). */
  hang?: boolean;
  /** Accept the submit (record it, schedule its reports), then drop the connection unanswered. */
  dropAnswer?: boolean;
}

export interface EmulatedSubmission extends ReceivedSubmission {
  /** The MessageID answered, or undefined when the submit was refused. */
  messageId?: string;
  answer: { httpStatus: number; statusCode?: number } | 'hang' | 'dropped';
  authorization?: string;
  receivedAt: Date;
}

export interface EmulatedReport {
  messageId: string;
  recipient: string;
  mmStatus: string;
  attempts: number;
  /** Set once a DeliveryReportRsp with a 1xxx status came back. */
  answeredAt?: Date;
  lastError?: string;
}

export interface ReportControl {
  /** Hold reports (queued, not sent) until released. */
  hold?: boolean;
  /** Send every report twice. */
  duplicate?: boolean;
  /** On release, send held reports newest first. */
  reverse?: boolean;
}

export interface MmscEmulator {
  url: string;
  submissions: EmulatedSubmission[];
  reports: EmulatedReport[];
  /** Queues faults for the next submits. */
  fault(rule: FaultRule): void;
  /** Changes how reports go out; releasing a hold sends what waits. */
  controlReports(control: ReportControl): void;
  /** A handset sends an MMS to the gateway as a DeliverReq. */
  deliver(message: HandsetMessage): Promise<DeliverResult>;
  /** A recipient's handset reports it read (MMStatus Read) or deleted a message: a ReadReplyReq. */
  readReply(input: {
    messageId: string;
    from: string;
    to: string;
    mmStatus?: string;
  }): Promise<DeliverResult>;
  close(): Promise<void>;
}

export interface DeliverResult {
  httpStatus: number;
  statusCode?: number;
  statusText?: string;
  body: string;
}

const MAX_KEPT_SUBMISSIONS = 1000;

interface QueuedReport {
  report: EmulatedReport;
  sender?: string;
  dueAt: number;
  backoffMs: number;
}

export async function startMmscEmulator(opts: MmscEmulatorOptions = {}): Promise<MmscEmulator> {
  const log = opts.log ?? (() => {});
  const reportRetryMs = opts.reportRetryMs ?? 200;
  const reportRetryMaxMs = opts.reportRetryMaxMs ?? 5000;
  const maxBodyBytes = opts.maxBodyBytes ?? 20 * 1024 * 1024;
  const serviceUnavailableSubmits = opts.serviceUnavailableSubmits ?? 2;
  const submissions: EmulatedSubmission[] = [];
  const reports: EmulatedReport[] = [];
  const faults: FaultRule[] = [];
  const queue: QueuedReport[] = [];
  const held: QueuedReport[] = [];
  const hanging = new Set<http.ServerResponse>();
  const unavailableSeen = new Map<string, number>();
  let reportControl: ReportControl = {};
  let closed = false;
  // Aborts posts in flight when the emulator closes, so a slow gateway cannot hold it open.
  const closing = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let pumping = false;

  const expectedAuth =
    opts.username !== undefined
      ? `Basic ${Buffer.from(`${opts.username}:${opts.password ?? ''}`).toString('base64')}`
      : undefined;
  const gatewayAuth =
    opts.gatewayUsername !== undefined
      ? `Basic ${Buffer.from(`${opts.gatewayUsername}:${opts.gatewayPassword ?? ''}`).toString('base64')}`
      : undefined;

  function enqueue(item: QueuedReport) {
    if (reportControl.hold) held.push(item);
    else queue.push(item);
    schedule(0);
  }

  function schedule(ms: number) {
    if (closed) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void pump(), ms);
  }

  async function pump() {
    if (pumping || closed) return;
    pumping = true;
    try {
      const now = Date.now();
      const due = queue.filter((q) => q.dueAt <= now);
      for (const item of due) {
        if (closed) return;
        const ok = await sendReport(item);
        if (ok) queue.splice(queue.indexOf(item), 1);
        else {
          item.dueAt = Date.now() + item.backoffMs;
          item.backoffMs = Math.min(item.backoffMs * 2, reportRetryMaxMs);
        }
      }
    } finally {
      pumping = false;
    }
    if (queue.length > 0) schedule(Math.max(10, Math.min(...queue.map((q) => q.dueAt)) - Date.now()));
  }

  async function sendReport(item: QueuedReport): Promise<boolean> {
    const { report } = item;
    if (!opts.gatewayUrl) return false;
    report.attempts++;
    const xml = deliveryReportReq({
      transactionId: `dr-${randomUUID()}`,
      messageId: report.messageId,
      recipient: report.recipient,
      sender: item.sender,
      mmStatus: report.mmStatus,
      date: new Date(),
    });
    try {
      const answer = await postToGateway('text/xml; charset="utf-8"', Buffer.from(xml));
      if (answer.httpStatus === 200 && answer.statusCode !== undefined && answer.statusCode < 2000) {
        report.answeredAt ??= new Date();
        return true;
      }
      report.lastError = `HTTP ${answer.httpStatus} status ${answer.statusCode ?? '-'}`;
    } catch (err) {
      report.lastError = (err as Error).message;
    }
    return false;
  }

  async function postToGateway(contentType: string, body: Buffer): Promise<DeliverResult> {
    if (!opts.gatewayUrl) throw new Error('no gateway URL configured');
    const res = await request(opts.gatewayUrl, {
      method: 'POST',
      headers: {
        'content-type': contentType,
        soapaction: '""',
        ...(gatewayAuth ? { authorization: gatewayAuth } : {}),
      },
      body,
      signal: AbortSignal.any([AbortSignal.timeout(10_000), closing.signal]),
    });
    const text = await res.body.text();
    let statusCode: number | undefined;
    let statusText: string | undefined;
    try {
      const answer = readMm7Answer(text);
      statusCode = answer.statusCode;
      statusText = answer.statusText;
    } catch {
      // Not MM7: the status stays unknown.
    }
    return { httpStatus: res.statusCode, statusCode, statusText, body: text };
  }

  function scheduleReports(messageId: string, submission: ReceivedSubmission) {
    if (!submission.deliveryReport) return;
    for (const recipient of [...submission.to, ...submission.cc, ...submission.bcc]) {
      for (const mmStatus of mmscScriptFor(recipient).reports) {
        const report: EmulatedReport = { messageId, recipient, mmStatus, attempts: 0 };
        reports.push(report);
        const copies = reportControl.duplicate ? 2 : 1;
        for (let i = 0; i < copies; i++) {
          enqueue({
            report,
            sender: submission.senderAddress,
            dueAt: Date.now() + (opts.reportDelayMs ?? 0),
            backoffMs: reportRetryMs,
          });
        }
      }
    }
  }

  function controlReports(control: ReportControl) {
    const wasHeld = reportControl.hold;
    reportControl = { ...reportControl, ...control };
    if (wasHeld && !reportControl.hold) {
      const release = reportControl.reverse ? held.reverse() : held;
      queue.push(...release.splice(0));
      schedule(0);
    }
  }

  function answer(res: http.ServerResponse, status: number, contentType: string, body: string) {
    res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  async function onSubmit(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) {
    const authorization = req.headers.authorization;
    if (expectedAuth && authorization !== expectedAuth) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="mmsc"', 'content-type': 'text/plain' });
      res.end('authentication required');
      submissions.push({
        ...emptySubmission(['authentication failed']),
        answer: { httpStatus: 401 },
        authorization,
        receivedAt: new Date(),
      });
      return;
    }
    const checked = checkSubmitReq(body, req.headers['content-type'], headerString(req.headers.soapaction));
    const record: EmulatedSubmission = {
      ...checked,
      answer: { httpStatus: 0 },
      authorization,
      receivedAt: new Date(),
    };
    submissions.push(record);
    // A long-running emulator keeps the recent submissions only (they hold the decoded parts).
    if (submissions.length > MAX_KEPT_SUBMISSIONS)
      submissions.splice(0, submissions.length - MAX_KEPT_SUBMISSIONS);
    const tid = checked.transactionId ?? '';

    const rule = faults[0];
    if (rule) {
      rule.count = (rule.count ?? 1) - 1;
      if (rule.count <= 0) faults.shift();
      if (rule.hang) {
        record.answer = 'hang';
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
      }
      if (!rule.dropAnswer) {
        if (rule.statusCode !== undefined) {
          record.answer = { httpStatus: rule.httpStatus ?? 500, statusCode: rule.statusCode };
          return answer(
            res,
            rule.httpStatus ?? 500,
            'text/xml; charset="utf-8"',
            rsErrorFault(tid, rule.statusCode, rule.statusText ?? 'Scripted fault'),
          );
        }
        record.answer = { httpStatus: rule.httpStatus ?? 500 };
        return answer(res, rule.httpStatus ?? 500, 'text/plain', 'scripted HTTP error');
      }
    }

    if (checked.problems.length > 0) {
      log(`SubmitReq refused: ${checked.problems.join('; ')}`);
      record.answer = { httpStatus: 500, statusCode: 4004 };
      return answer(
        res,
        500,
        'text/xml; charset="utf-8"',
        rsErrorFault(tid, 4004, `Validation error: ${checked.problems.join('; ')}`),
      );
    }
    for (const recipient of [...checked.to, ...checked.cc, ...checked.bcc]) {
      const fault = mmscScriptFor(recipient).submitFault;
      if (!fault) continue;
      if (fault.onlyFirst) {
        const seen = (unavailableSeen.get(recipient) ?? 0) + 1;
        unavailableSeen.set(recipient, seen);
        if (seen > serviceUnavailableSubmits) continue;
      }
      record.answer = { httpStatus: 500, statusCode: fault.statusCode };
      return answer(
        res,
        500,
        'text/xml; charset="utf-8"',
        rsErrorFault(tid, fault.statusCode, fault.statusText),
      );
    }

    const messageId = `mmsc-${randomUUID()}`;
    record.messageId = messageId;
    scheduleReports(messageId, checked);
    if (rule?.dropAnswer) {
      record.answer = 'dropped';
      res.socket?.destroy();
      return;
    }
    record.answer = { httpStatus: 200, statusCode: 1000 };
    log(
      `SubmitReq ${tid} accepted as ${messageId} for ${[...checked.to, ...checked.cc, ...checked.bcc].join(', ')}`,
    );
    answer(res, 200, 'text/xml; charset="utf-8"', submitRsp(tid, messageId));
  }

  async function onControl(req: http.IncomingMessage, res: http.ServerResponse, path: string, body: Buffer) {
    const json = (status: number, value: unknown) =>
      answer(res, status, 'application/json', JSON.stringify(value));
    const input = body.length > 0 ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>) : {};
    if (req.method === 'GET' && path === '/control/submissions') {
      return json(200, {
        data: submissions.map(({ parts, ...s }) => ({ ...s, parts: parts.map(({ bytes: _b, ...p }) => p) })),
      });
    }
    if (req.method === 'GET' && path === '/control/reports') return json(200, { data: reports });
    if (req.method === 'POST' && path === '/control/faults') {
      emulator.fault(input as FaultRule);
      return json(200, { data: { queued: faults.length } });
    }
    if (req.method === 'POST' && path === '/control/reports') {
      controlReports(input as ReportControl);
      return json(200, { data: reportControl });
    }
    if (req.method === 'POST' && path === '/control/deliver') {
      const media = (
        (input.media as Array<{ content_type: string; base64: string; filename?: string }>) ?? []
      ).map((m) => ({
        contentType: m.content_type,
        bytes: Buffer.from(m.base64, 'base64'),
        filename: m.filename,
      }));
      const result = await emulator.deliver({ ...(input as unknown as HandsetMessage), media });
      return json(200, { data: result });
    }
    if (req.method === 'POST' && path === '/control/read-reply') {
      const result = await emulator.readReply(
        input as { messageId: string; from: string; to: string; mmStatus?: string },
      );
      return json(200, { data: result });
    }
    return json(404, { error: 'not found' });
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBodyBytes) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => {
      if (tooLarge) return answer(res, 413, 'text/plain', 'body too large');
      const body = Buffer.concat(chunks);
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const handler = path.startsWith('/control/')
        ? onControl(req, res, path, body)
        : onSubmit(req, res, body);
      handler.catch((err: unknown) => {
        log(`emulator error: ${(err as Error).stack ?? String(err)}`);
        if (!res.headersSent) answer(res, 500, 'text/plain', 'emulator error');
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  const emulator: MmscEmulator = {
    url: `http://${opts.host ?? '127.0.0.1'}:${port}/mm7`,
    submissions,
    reports,
    fault(rule) {
      faults.push({ count: 1, ...rule });
    },
    controlReports,
    async deliver(message) {
      const { contentType, body } = deliverReq(`dl-${randomUUID()}`, message);
      return postToGateway(contentType, body);
    },
    async readReply(input) {
      const xml = readReplyReq({ transactionId: `rr-${randomUUID()}`, mmStatus: 'Read', ...input });
      return postToGateway('text/xml; charset="utf-8"', Buffer.from(xml));
    },
    async close() {
      closed = true;
      closing.abort();
      if (timer) clearTimeout(timer);
      for (const res of hanging) res.socket?.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return emulator;
}

function emptySubmission(problems: string[]): ReceivedSubmission {
  return { to: [], cc: [], bcc: [], deliveryReport: false, parts: [], problems };
}

function headerString(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
