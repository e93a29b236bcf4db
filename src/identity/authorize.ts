import type { KeyRecord } from '../protocol/authenticate.js';
import { ApiError } from '../spec/errors.js';
import type { ActionSpec } from '../spec/types.js';
import type { Account } from '../store/port.js';

/**
 * RAM authorization. Root-account keys may do everything in their own account. RAM users and
 * their policies arrive with the identity issue; until then a key that belongs to a RAM user is
 * refused rather than silently given root's rights.
 */
export function authorize(key: KeyRecord, account: Account, action: ActionSpec): void {
  if (key.userName === undefined && key.accountId === account.id) return;
  throw new ApiError('Forbidden.RAM', {
    extra: {
      AccessDeniedDetail: {
        AuthAction: action.ramAction,
        AuthPrincipalType: 'SubUser',
        AuthPrincipalDisplayName: key.userName ?? '',
        AuthPrincipalOwnerId: account.uid,
        NoPermissionType: 'ImplicitDeny',
        PolicyType: 'AccountLevelIdentityBasedPolicy',
      },
    },
  });
}
