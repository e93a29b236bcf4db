/**
 * The error catalogue: every code refreshd answers with, its HTTP status and message, verbatim
 * from Alibaba Cloud's documentation (seeds 002/004 and docs/protocol.md §7). docs/errors.md
 * is generated from this table (scripts/gen-docs.ts) and test/spec/docs.test.ts keeps the two in step.
 *
 * Messages may carry `{Name}` placeholders, filled from ApiError's `vars` (parameter names).
 */
export interface ErrorSpec {
  status: number;
  message: string;
}

export const ERRORS = {
  // --- gateway: signature, identity, routing ---
  MissingParameter: { status: 400, message: 'The input parameter "{Name}" that is mandatory for processing this request is not supplied.' },
  InvalidParameter: { status: 400, message: 'The specified value of parameter "{Name}" is not valid.' },
  'InvalidParameter.Format': { status: 400, message: 'Specified parameter format is not valid.' },
  IncompleteSignature: { status: 400, message: 'The request signature does not conform to Aliyun standards.' },
  SignatureDoesNotMatch: { status: 400, message: 'Specified signature is not matched with our calculation.' },
  InvalidSignatureMethod: { status: 400, message: 'Specified signature method is not valid.' },
  SignatureNonceUsed: { status: 400, message: 'Specified signature nonce was used already.' },
  'InvalidTimeStamp.Expired': { status: 400, message: 'Specified time stamp or date value is expired.' },
  'InvalidTimeStamp.Format': { status: 400, message: 'Specified time stamp or date value is not well formatted.' },
  'InvalidAccessKeyId.NotFound': { status: 404, message: 'Specified access key is not found.' },
  'InvalidAccessKeyId.Inactive': { status: 400, message: 'Specified access key is disabled.' },
  'InvalidAction.NotFound': { status: 404, message: 'Specified api is not found, please check your url and method.' },
  InvalidVersion: { status: 400, message: 'Specified parameter Version is not valid.' },
  UnsupportedHTTPMethod: { status: 403, message: 'This http method not supported.' },
  'Forbidden.RAM': { status: 403, message: "User not authorized to operate on the specified resource, or this API doesn't support RAM." },
  RequestHeaderTooLarge: { status: 431, message: 'The request line and headers are too large; send the parameters in a POST form body.' },
  RequestBodyTooLarge: { status: 413, message: 'The request body is too large.' },
  RequestTimeout: { status: 408, message: 'The request was not received completely in time.' },
  InternalError: { status: 500, message: 'The request processing has failed due to some unknown error.' },
  ServiceUnavailable: { status: 503, message: 'The request has failed due to a temporary failure of the server.' },

  // --- throttling and service state ---
  Throttling: { status: 503, message: 'Request was denied due to request throttling.' },
  TooManyRequests: { status: 429, message: 'The server is busy. Please try again later.' },
  OperationDenied: { status: 403, message: 'Your account does not open {Product} service yet.' },
  'OperationDenied.Suspended': { status: 403, message: 'Your {Product} service is suspended.' },

  // --- submit: RefreshObjectCaches, PushObjectCache and the VOD pair ---
  'InvalidDomain.NotFound': { status: 404, message: 'The domain [{Domain}] does not belong to you.' },
  'InvalidDomain.Offline': { status: 404, message: 'The domain provided is offline.' },
  'QuotaExceeded.Refresh': { status: 400, message: 'You’ve exceeded the prescribed refresh limits.' },
  'QuotaPerMinuteExceeded.Refresh': { status: 400, message: 'You’ve exceeded the prescribed refresh limits per minute.' },
  PreloadQueueFull: { status: 403, message: 'Preload queue is full, please try again later!' },
  'SingleRequest.OverLimit': { status: 400, message: 'A maximum of {Limit} are supported for each request.' },
  'InvalidObjectPath.Malformed': { status: 400, message: 'The specified ObjectPath is invalid.' },
  'InvalidObjectType.ValueNotSupported': { status: 400, message: 'The specified ObjectType is not supported.' },
  // The code and message of Alibaba's ClientToken APIs (ECS): the token was used with other parameters.
  IdempotentParameterMismatch: { status: 400, message: 'Request uses a client token in a previous request but is not identical to that request.' },

  // --- describe: DescribeRefreshTasks, DescribeRefreshTaskById, DescribeVodRefreshTasks ---
  'InvalidTaskId.Malformed': { status: 400, message: 'The specified TaskId is invalid.' },
  'MissingParameter.ObjectType': { status: 400, message: 'The ObjectType parameter is required if DomainName or Status is specified.' },
  MissingTimeParameter: { status: 400, message: 'The StartTime and EndTime must be both specified.' },
  'InvalidEndTime.Mismatch': { status: 400, message: 'The specified EndTime is earlier than the StartTime.' },
  DomainNameOverLimit: { status: 400, message: 'A maximum of 500 domains are supported for each request.' },
  InvalidTime: { status: 400, message: 'The query time cannot exceed the last 3 days.' },
  'InvalidStartTime.Malformed': { status: 400, message: 'The specified StartTime is invalid.' },
  'InvalidEndTime.Malformed': { status: 400, message: 'The specified EndTime is invalid.' },
  'InvalidStartTime.ValueNotSupported': { status: 400, message: 'The specified StartTime is invalid.' },
  'InvalidEndTime.ValueNotSupported': { status: 400, message: 'The specified EndTime is invalid.' },
  'InvalidStatus.ValueNotSupported': { status: 400, message: 'The specified Status is not supported.' },

  // --- refreshd extensions: purge-then-warm and manifest expansion ---
  'InvalidParameter.PreloadAfter': { status: 400, message: 'PreloadAfter=true is supported only with ObjectType File or IgnoreParams.' },
  'InvalidManifest.FetchFailed': { status: 400, message: 'The manifest could not be read from the origin of its domain; nothing was accepted.' },
  'InvalidManifest.Malformed': { status: 400, message: 'The manifest is not an HLS playlist or DASH MPD that can be expanded; nothing was accepted.' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

/**
 * Codes any action may answer before its own parameters are looked at (signature, identity,
 * routing, service state, RAM) or whatever it is (a busy or broken store). An action's table
 * entry lists the others it may answer (`errors`), and its rate-limit code.
 */
export const GATEWAY_ERRORS: readonly ErrorCode[] = [
  'InvalidParameter.Format', 'IncompleteSignature', 'SignatureDoesNotMatch', 'InvalidSignatureMethod', 'SignatureNonceUsed',
  'InvalidTimeStamp.Expired', 'InvalidTimeStamp.Format', 'InvalidAccessKeyId.NotFound', 'InvalidAccessKeyId.Inactive',
  'InvalidAction.NotFound', 'InvalidVersion', 'UnsupportedHTTPMethod', 'Forbidden.RAM', 'RequestHeaderTooLarge',
  'RequestBodyTooLarge', 'RequestTimeout',
  'OperationDenied', 'OperationDenied.Suspended', 'InternalError', 'ServiceUnavailable',
];

/** A documented API error. Handlers throw these; protocol/ renders them. */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Extra headers for the answer, e.g. x-acs-retry-after on throttling. */
  readonly headers: Record<string, string>;
  /** Extra body fields, e.g. AccessDeniedDetail. */
  readonly extra: Record<string, unknown>;

  constructor(
    code: ErrorCode,
    opts: { vars?: Record<string, string | number>; detail?: string; headers?: Record<string, string>; extra?: Record<string, unknown> } = {},
  ) {
    const spec: ErrorSpec = ERRORS[code];
    let message = spec.message.replace(/\{(\w+)\}/g, (m, k: string) => (opts.vars && k in opts.vars ? String(opts.vars[k]) : m));
    if (opts.detail) message += ` ${opts.detail}`;
    super(message);
    this.code = code;
    this.status = spec.status;
    this.headers = opts.headers ?? {};
    this.extra = opts.extra ?? {};
  }
}

export const missing = (name: string) => new ApiError('MissingParameter', { vars: { Name: name } });
export const invalid = (name: string) => new ApiError('InvalidParameter', { vars: { Name: name } });
