import { XMLBuilder } from 'fast-xml-parser';
import type { ApiError } from '../spec/errors.js';

/**
 * Rendering of answers (docs/protocol.md §6). JSON for ACS3 requests and for `Format=JSON`, which
 * every client we know of sends; XML for `Format=XML`, and for a V1 request without `Format`
 * (Alibaba's RPC default; api/handle-rpc.ts chooses). Lists are arrays in the result objects, so XML
 * repeats the element: `Tasks: {CDNTask: [...]}` → `<Tasks><CDNTask/><CDNTask/></Tasks>`, a bare
 * `Tasks: [...]` → `<Tasks/><Tasks/>`.
 */
export type WireFormat = 'JSON' | 'XML';

export interface RenderedBody {
  contentType: string;
  body: string;
}

const xml = new XMLBuilder({ ignoreAttributes: true, suppressEmptyNode: false, processEntities: true });
const XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>';

export function renderSuccess(action: string, result: Record<string, unknown>, format: WireFormat): RenderedBody {
  if (format === 'XML') {
    return { contentType: 'text/xml;charset=utf-8', body: XML_DECL + xml.build({ [`${action}Response`]: result }) };
  }
  return { contentType: 'application/json;charset=utf-8', body: JSON.stringify(result) };
}

export function errorBody(err: ApiError, requestId: string, hostId: string, product: string): Record<string, unknown> {
  return {
    RequestId: requestId,
    HostId: hostId,
    Code: err.code,
    Message: err.message,
    Recommend: `https://api.aliyun.com/troubleshoot?q=${encodeURIComponent(err.code)}&product=${product}&requestId=${requestId}`,
    ...err.extra,
  };
}

export function renderError(body: Record<string, unknown>, format: WireFormat): RenderedBody {
  if (format === 'XML') {
    return { contentType: 'text/xml;charset=utf-8', body: XML_DECL + xml.build({ Error: body }) };
  }
  return { contentType: 'application/json;charset=utf-8', body: JSON.stringify(body) };
}

/** `Format` is case-insensitive; anything but JSON/XML is InvalidParameter.Format. */
export function parseFormat(value: string | undefined, fallback: WireFormat): WireFormat | undefined {
  if (value === undefined || value === '') return fallback;
  const upper = value.toUpperCase();
  return upper === 'JSON' || upper === 'XML' ? upper : undefined;
}
