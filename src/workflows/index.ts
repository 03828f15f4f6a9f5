export * from './book-trip';
export * from './cancel-confirmed-trip';
