export * from './errors';
export * from './trip-flavors';
