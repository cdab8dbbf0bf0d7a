// Names the bundle format fixes: the manifest's file name and what a bundle name may be.
export const MANIFEST_FILE = 'bundle.yaml';
export const BUNDLE_NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
