/**
 * Which tenant a connection belongs to (docs/multi-tenancy.md), decided once when it authenticates:
 * in order, the JWT claim `multiTenancy.jwtClaim` (OAUTHBEARER), the certificate subject field
 * `multiTenancy.certificateField` (a connection that authenticated with its client certificate),
 * `multiTenancy.principalMappingRules` applied to the principal's name (SCRAM, PLAIN, or any principal
 * the first two gave no tenant), and `multiTenancy.defaultTenant`. Nothing left: refused, with the
 * reason. Super users belong to no tenant and are not restricted. A name found but not valid as a
 * tenant (TENANT_NAME) is refused rather than passed over, so a typo in a token never lands a client
 * in the default tenant. Pure.
 */
import { TENANT_NAME, TENANT_NAME_RULE } from '../metadata/client-quotas.ts';

/** What a connection showed when it authenticated. */
export interface TenantIdentity {
  /** `User:<name>` (`User:ANONYMOUS` without authentication). */
  readonly principal: string;
  /** The verified token's claims (OAUTHBEARER). */
  readonly claims?: Readonly<Record<string, unknown>>;
  /** The verified client certificate's subject fields, when the connection authenticated with it. */
  readonly certificateSubject?: Readonly<Record<string, string | string[]>>;
}

export interface TenantSettings {
  /** Empty: tokens name no tenant. */
  readonly jwtClaim: string;
  readonly certificateField: 'O' | 'OU' | 'CN' | 'none';
  /** The tenant the mapping rules make of a principal name, '' for none. */
  readonly tenantOfName: (name: string) => string;
  /** Empty: none. */
  readonly defaultTenant: string;
  readonly superUsers: ReadonlySet<string>;
}

export type TenantSource = 'jwt' | 'certificate' | 'principal' | 'default';

export type TenantResolution =
  | { readonly kind: 'tenant'; readonly tenant: string; readonly source: TenantSource }
  | { readonly kind: 'super-user' }
  | { readonly kind: 'refused'; readonly reason: string };

export function resolveTenant(identity: TenantIdentity, settings: TenantSettings): TenantResolution {
  if (settings.superUsers.has(identity.principal)) return { kind: 'super-user' };
  const found = (tenant: string, source: TenantSource): TenantResolution =>
    TENANT_NAME.test(tenant) ? { kind: 'tenant', tenant, source } : { kind: 'refused', reason: `the ${sourceText(source, settings)} names tenant ${JSON.stringify(tenant.slice(0, 80))}, which is not a valid tenant name (${TENANT_NAME_RULE})` };
  if (settings.jwtClaim !== '' && identity.claims !== undefined && identity.claims[settings.jwtClaim] !== undefined) {
    const claim = identity.claims[settings.jwtClaim];
    if (typeof claim !== 'string') return { kind: 'refused', reason: `the token's ${settings.jwtClaim} claim is not a string` };
    return found(claim, 'jwt');
  }
  if (settings.certificateField !== 'none' && identity.certificateSubject !== undefined) {
    const field = identity.certificateSubject[settings.certificateField];
    const value = Array.isArray(field) ? field[0] : field;
    if (value !== undefined && value !== '') return found(value, 'certificate');
  }
  const name = identity.principal.startsWith('User:') ? identity.principal.slice('User:'.length) : identity.principal;
  const mapped = settings.tenantOfName(name);
  if (mapped !== '') return found(mapped, 'principal');
  if (settings.defaultTenant !== '') return { kind: 'tenant', tenant: settings.defaultTenant, source: 'default' };
  return { kind: 'refused', reason: `no tenant for ${identity.principal} (${wherefrom(settings)}) and multiTenancy.defaultTenant is empty` };
}

function sourceText(source: TenantSource, settings: TenantSettings): string {
  switch (source) {
    case 'jwt':
      return `token's ${settings.jwtClaim} claim`;
    case 'certificate':
      return `certificate's ${settings.certificateField} field`;
    case 'principal':
      return 'principal mapping (multiTenancy.principalMappingRules)';
    case 'default':
      return 'multiTenancy.defaultTenant';
  }
}

/** Where a tenant was looked for, for the refusal. */
function wherefrom(settings: TenantSettings): string {
  const places = [
    ...(settings.jwtClaim !== '' ? [`token claim ${settings.jwtClaim}`] : []),
    ...(settings.certificateField !== 'none' ? [`certificate field ${settings.certificateField}`] : []),
    'multiTenancy.principalMappingRules',
  ];
  return `looked for in: ${places.join(', ')}`;
}

/** The prefix of every topic, group and transactional id a tenant owns. */
export function tenantPrefix(tenant: string): string {
  return `${tenant}.`;
}

/** Whether `name` (a topic, group or transactional id) belongs to `tenant`. */
export function ownsName(tenant: string, name: string): boolean {
  return name.length > tenant.length + 1 && name.startsWith(tenantPrefix(tenant));
}
