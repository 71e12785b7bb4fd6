/** Numeric rules of the Backend API (spec section 2.5), in one place. */
export const LIMITS = {
  machineNameMax: 255,
  scopesPerMachineMax: 150,
  tokenTtlMin: 1,
  tokenTtlMax: 315_360_000, // ten years, in seconds
  defaultTokenTtl: 3600,
  previousKeyTtlMax: 28_800, // eight hours of grace for a rotated-out machine key
  machinesPageMax: 500,
  tokensPageMax: 100,
  pageDefault: 10,
  revocationReasonMax: 1000,
  offsetMax: 2_147_483_647,
  claimsDepthMax: 32,
} as const;
